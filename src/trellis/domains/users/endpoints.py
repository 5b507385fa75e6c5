from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from trellis.api.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    ActorDep,
    AuthPolicyDep,
    IfMatchDep,
    NowDep,
    OriginDep,
    SessionDep,
    set_etag,
    set_session_cookies,
)
from trellis.api.pagination import ListResponse, list_response, page_request
from trellis.api.params import IdPath, OptionalIdQuery, SearchQuery
from trellis.api.routing import API_PREFIX
from trellis.db.models import Role, User
from trellis.db.pagination import PageRequest
from trellis.domains.users.schemas import (
    LoginRequest,
    Me,
    PasswordChange,
    PermissionCatalog,
    RoleCreate,
    RoleRead,
    RoleUpdate,
    SetupRequest,
    SetupStatus,
    TokenCreate,
    TokenCreated,
    TokenRead,
    UserCreate,
    UserRead,
    UserUpdate,
    permission_catalog,
)
from trellis.domains.users.service import (
    effective_permissions,
    role_service,
    token_service,
    user_service,
)
from trellis.domains.users.sign_in import auth_service

router = APIRouter(prefix=API_PREFIX)
PageDep = Annotated[PageRequest, Depends(page_request)]


def user_read(user: User) -> UserRead:
    return UserRead.model_validate(
        {
            **{c: getattr(user, c) for c in UserRead.model_fields if c != "role_name"},
            "role_name": user.role.name,
        }
    )


def role_read(role: Role) -> RoleRead:
    read = RoleRead.model_validate(role)
    return read.model_copy(update={"permissions": effective_permissions(role)})


def me_for(user: User) -> Me:
    return Me(
        user=user_read(user),
        role=role_read(user.role),
        is_admin=user.role.is_admin,
        permissions=effective_permissions(user.role),
    )


# --- authentication -------------------------------------------------------------------------


@router.post("/auth/login", response_model=Me, tags=["auth"], summary="Sign in")
async def login(
    body: LoginRequest,
    response: Response,
    session: SessionDep,
    now: NowDep,
    origin: OriginDep,
    policy: AuthPolicyDep,
    request: Request,
) -> Me:
    await auth_service.claim_attempt(
        session, email=body.email, origin=origin, policy=policy, now=now
    )
    # Commit the counted attempt before the password check: a parallel attempt then waits
    # for it and sees it, instead of every guess reading the same count.
    await session.commit()
    opened = await auth_service.login(
        session, email=body.email, password=body.password, origin=origin, policy=policy, now=now
    )
    set_session_cookies(request, response, secret=opened.secret, csrf_token=opened.csrf_token)
    return me_for(opened.user)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, tags=["auth"])
async def logout(request: Request, response: Response, session: SessionDep) -> None:
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        await auth_service.logout(session, secret=secret)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


@router.get("/auth/me", response_model=Me, tags=["auth"], summary="The signed-in user")
async def me(actor: ActorDep, session: SessionDep) -> Me:
    assert actor.user_id is not None
    user = await user_service.get(session, actor.user_id, actor=actor)
    return me_for(user)


@router.post("/auth/password", status_code=status.HTTP_204_NO_CONTENT, tags=["auth"])
async def change_password(
    body: PasswordChange, request: Request, actor: ActorDep, session: SessionDep, now: NowDep
) -> None:
    await user_service.change_own_password(
        session,
        actor=actor,
        current_password=body.current_password,
        new_password=body.new_password,
        now=now,
        keep_session_id=getattr(request.state, "session_id", None),
        revoke_tokens=body.revoke_tokens,
    )


@router.get(
    "/setup", response_model=SetupStatus, tags=["auth"], summary="Is first-run setup needed?"
)
async def setup_status(session: SessionDep) -> SetupStatus:
    return SetupStatus(needs_setup=await user_service.count(session) == 0)


@router.post(
    "/setup",
    response_model=Me,
    status_code=201,
    tags=["auth"],
    summary="Create the first administrator",
)
async def setup(
    body: SetupRequest,
    response: Response,
    session: SessionDep,
    now: NowDep,
    origin: OriginDep,
    policy: AuthPolicyDep,
    request: Request,
) -> Me:
    user = await user_service.create_first_admin(
        session, email=body.email, name=body.name, password=body.password, now=now
    )
    opened = await auth_service.open_session(
        session, user=user, origin=origin, policy=policy, now=now
    )
    set_session_cookies(request, response, secret=opened.secret, csrf_token=opened.csrf_token)
    return me_for(user)


# --- permissions and roles ------------------------------------------------------------------


@router.get("/permissions", response_model=PermissionCatalog, tags=["roles"])
async def permissions(actor: ActorDep) -> PermissionCatalog:
    return permission_catalog()


@router.get("/roles", response_model=ListResponse[RoleRead], tags=["roles"])
async def list_roles(actor: ActorDep, session: SessionDep, page: PageDep) -> ListResponse[RoleRead]:
    return list_response(await role_service.list_page(session, actor=actor, page=page), role_read)


@router.post("/roles", response_model=RoleRead, status_code=201, tags=["roles"])
async def create_role(
    body: RoleCreate, response: Response, actor: ActorDep, session: SessionDep, now: NowDep
) -> RoleRead:
    role = await role_service.create(session, data=body, actor=actor, now=now)
    set_etag(response, role.version)
    return role_read(role)


@router.get("/roles/{role_id}", response_model=RoleRead, tags=["roles"])
async def get_role(
    role_id: IdPath, response: Response, actor: ActorDep, session: SessionDep
) -> RoleRead:
    role = await role_service.get(session, role_id, actor=actor)
    set_etag(response, role.version)
    return role_read(role)


@router.patch("/roles/{role_id}", response_model=RoleRead, tags=["roles"])
async def update_role(
    role_id: IdPath,
    body: RoleUpdate,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    now: NowDep,
    expected: IfMatchDep,
) -> RoleRead:
    role = await role_service.update(
        session, role_id, data=body, actor=actor, now=now, expected_version=expected
    )
    set_etag(response, role.version)
    return role_read(role)


@router.delete("/roles/{role_id}", status_code=204, tags=["roles"])
async def delete_role(role_id: IdPath, actor: ActorDep, session: SessionDep, now: NowDep) -> None:
    await role_service.delete(session, role_id, actor=actor, now=now)


# --- users ----------------------------------------------------------------------------------


@router.get("/users", response_model=ListResponse[UserRead], tags=["users"])
async def list_users(
    actor: ActorDep,
    session: SessionDep,
    page: PageDep,
    q: SearchQuery = None,
) -> ListResponse[UserRead]:
    return list_response(
        await user_service.list_page(session, actor=actor, page=page, q=q), user_read
    )


@router.post("/users", response_model=UserRead, status_code=201, tags=["users"])
async def create_user(
    body: UserCreate, response: Response, actor: ActorDep, session: SessionDep, now: NowDep
) -> UserRead:
    user = await user_service.create(session, data=body, actor=actor, now=now)
    set_etag(response, user.version)
    return user_read(user)


@router.get("/users/{user_id}", response_model=UserRead, tags=["users"])
async def get_user(
    user_id: IdPath, response: Response, actor: ActorDep, session: SessionDep
) -> UserRead:
    user = await user_service.get(session, user_id, actor=actor)
    set_etag(response, user.version)
    return user_read(user)


@router.patch("/users/{user_id}", response_model=UserRead, tags=["users"])
async def update_user(
    user_id: IdPath,
    body: UserUpdate,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    now: NowDep,
    expected: IfMatchDep,
) -> UserRead:
    user = await user_service.update(
        session, user_id, data=body, actor=actor, now=now, expected_version=expected
    )
    set_etag(response, user.version)
    return user_read(user)


@router.delete("/users/{user_id}", status_code=204, tags=["users"])
async def delete_user(user_id: IdPath, actor: ActorDep, session: SessionDep, now: NowDep) -> None:
    await user_service.delete(session, user_id, actor=actor, now=now)


# --- API tokens -----------------------------------------------------------------------------


@router.get("/tokens", response_model=ListResponse[TokenRead], tags=["tokens"])
async def list_tokens(
    actor: ActorDep,
    session: SessionDep,
    page: PageDep,
    user_id: OptionalIdQuery = None,
) -> ListResponse[TokenRead]:
    result = await token_service.list_page(session, actor=actor, page=page, user_id=user_id)
    return list_response(result, TokenRead.model_validate)


@router.post("/tokens", response_model=TokenCreated, status_code=201, tags=["tokens"])
async def create_token(
    body: TokenCreate, actor: ActorDep, session: SessionDep, now: NowDep
) -> TokenCreated:
    token, secret = await token_service.create(session, data=body, actor=actor, now=now)
    return TokenCreated.model_validate(
        {**TokenRead.model_validate(token).model_dump(), "token": secret}
    )


@router.delete("/tokens/{token_id}", status_code=204, tags=["tokens"])
async def revoke_token(token_id: IdPath, actor: ActorDep, session: SessionDep, now: NowDep) -> None:
    await token_service.revoke(session, token_id, actor=actor, now=now)
