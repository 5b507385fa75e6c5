"""Users, roles, API tokens and browser sessions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import (
    BUILTIN_ROLES,
    Actor,
    Perm,
    builtin_role_permissions,
)
from trellis.db.models import ApiToken, Role, User
from trellis.db.pagination import Page, PageRequest
from trellis.domains.audit.service import AuditAction, audit, diff
from trellis.domains.users import security
from trellis.domains.users.repository import (
    RoleRepository,
    SessionRepository,
    TokenRepository,
    UserRepository,
)
from trellis.domains.users.schemas import (
    RoleCreate,
    RoleUpdate,
    TokenCreate,
    UserCreate,
    UserUpdate,
)
from trellis.errors import (
    Conflict,
    FieldError,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from trellis.kit.versions import check_version

ADMINISTRATOR = "Administrator"


@dataclass(frozen=True)
class RequestOrigin:
    ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class Use:
    """An API token (``session_expires_at`` None) or a sign-in session used at ``at``."""

    kind: str  # token | session
    id: int
    at: datetime
    session_expires_at: datetime | None = None


class UsageSink(Protocol):
    """Where a request leaves the use of its credentials, to be written after it, outside
    its transaction (a read must not write: on SQLite that waits for the write lock)."""

    def add(self, item: Use) -> None: ...


def effective_permissions(role: Role) -> dict[str, list[str]]:
    # Built-in roles follow the code, so resources added by later versions are covered.
    if role.is_builtin and role.name in BUILTIN_ROLES:
        return builtin_role_permissions(role.name)
    return {k: list(v) for k, v in role.permissions.items()}


def actor_for_user(user: User, *, origin: RequestOrigin, token: ApiToken | None = None) -> Actor:
    permissions = effective_permissions(user.role)
    return Actor(
        type="token" if token is not None else "user",
        name=user.email,
        user_id=user.id,
        token_id=token.id if token is not None else None,
        is_admin=user.role.is_admin,
        permissions={k: frozenset(v) for k, v in permissions.items()},
        scopes=tuple(token.scopes) if token is not None else (),
        ip=origin.ip,
        user_agent=origin.user_agent,
    )


def _password_errors(password: str, *, email: str, pointer: str) -> list[FieldError]:
    return [
        FieldError(pointer, problem, "weak_password")
        for problem in security.password_problems(password, email=email)
    ]


class RoleService:
    async def ensure_builtin(self, session: AsyncSession, *, now: datetime) -> None:
        repo = RoleRepository(session)
        for name, (description, is_admin) in BUILTIN_ROLES.items():
            role = await repo.by_name(name)
            permissions = builtin_role_permissions(name)
            if role is None:
                repo.add(
                    Role(
                        name=name,
                        description=description,
                        is_builtin=True,
                        is_admin=is_admin,
                        permissions=permissions,
                        created_at=now,
                        updated_at=now,
                    )
                )
            elif role.permissions != permissions or not role.is_builtin:
                role.permissions = permissions
                role.is_builtin = True
                role.is_admin = is_admin
                role.updated_at = now
        await session.flush()

    async def get(self, session: AsyncSession, role_id: int, *, actor: Actor) -> Role:
        actor.require("roles", Perm.VIEW_OTHERS)
        role = await RoleRepository(session).get(role_id)
        if role is None:
            raise NotFound(f"No role with id {role_id}.")
        return role

    async def by_name(self, session: AsyncSession, name: str) -> Role | None:
        return await RoleRepository(session).by_name(name)

    async def list_page(
        self, session: AsyncSession, *, actor: Actor, page: PageRequest
    ) -> Page[Role]:
        # Anyone who may manage users needs the roles to choose from.
        if not (actor.can("roles", Perm.VIEW_OTHERS) or actor.can("users", Perm.CREATE)):
            actor.require("roles", Perm.VIEW_OTHERS)
        return await RoleRepository(session).list_page(page=page)

    async def create(
        self, session: AsyncSession, *, data: RoleCreate, actor: Actor, now: datetime
    ) -> Role:
        actor.require("roles", Perm.CREATE)
        repo = RoleRepository(session)
        if await repo.by_name(data.name) is not None:
            raise Conflict(
                f"A role named {data.name!r} exists.",
                [FieldError("/name", "This name is taken.", "duplicate")],
            )
        role = Role(
            name=data.name,
            description=data.description,
            permissions=data.permissions,
            is_builtin=False,
            is_admin=False,
            created_at=now,
            updated_at=now,
        )
        repo.add(role)
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action=AuditAction.CREATE,
            entity_type="role",
            entity_id=role.id,
            entity_name=role.name,
            changes=diff({}, _role_snapshot(role)),
            now=now,
        )
        return role

    async def update(
        self,
        session: AsyncSession,
        role_id: int,
        *,
        data: RoleUpdate,
        actor: Actor,
        now: datetime,
        expected_version: int | None,
    ) -> Role:
        actor.require("roles", Perm.EDIT_OTHERS)
        repo = RoleRepository(session)
        role = await repo.get(role_id)
        if role is None:
            raise NotFound(f"No role with id {role_id}.")
        check_version(role, expected_version)
        if role.is_builtin:
            raise Conflict(f"The built-in role {role.name!r} cannot be changed; copy it instead.")
        before = _role_snapshot(role)
        changes = data.model_dump(exclude_unset=True)
        new_name = changes.get("name")
        if (
            new_name is not None
            and new_name.lower() != role.name.lower()
            and await repo.by_name(new_name) is not None
        ):
            raise Conflict(
                f"A role named {changes['name']!r} exists.",
                [FieldError("/name", "This name is taken.", "duplicate")],
            )
        for field, value in changes.items():
            if value is not None:
                setattr(role, field, value)
        after = _role_snapshot(role)
        if after != before:
            role.version += 1
            role.updated_at = now
            await session.flush()
            await audit.record(
                session,
                actor=actor,
                action=AuditAction.UPDATE,
                entity_type="role",
                entity_id=role.id,
                entity_name=role.name,
                changes=diff(before, after),
                now=now,
            )
        return role

    async def delete(
        self, session: AsyncSession, role_id: int, *, actor: Actor, now: datetime
    ) -> None:
        actor.require("roles", Perm.DELETE_OTHERS)
        repo = RoleRepository(session)
        role = await repo.get(role_id)
        if role is None:
            raise NotFound(f"No role with id {role_id}.")
        if role.is_builtin:
            raise Conflict(f"The built-in role {role.name!r} cannot be deleted.")
        in_use = await repo.user_count(role.id)
        if in_use:
            raise Conflict(f"{in_use} user(s) have the role {role.name!r}; move them first.")
        snapshot = _role_snapshot(role)
        await repo.delete(role)
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action=AuditAction.DELETE,
            entity_type="role",
            entity_id=role_id,
            entity_name=snapshot["name"],
            changes=diff(snapshot, {}),
            now=now,
        )


def _role_snapshot(role: Role) -> dict[str, Any]:
    return {
        "name": role.name,
        "description": role.description,
        "permissions": {k: sorted(v) for k, v in sorted(role.permissions.items())},
    }


def _user_snapshot(user: User, role_name: str) -> dict[str, Any]:
    return {
        "email": user.email,
        "name": user.name,
        "role": role_name,
        "timezone": user.timezone,
        "locale": user.locale,
        "is_active": user.is_active,
        "password": user.password_hash,
    }


class UserService:
    async def count(self, session: AsyncSession) -> int:
        return await UserRepository(session).count()

    async def find_by_email(self, session: AsyncSession, email: str) -> User | None:
        return await UserRepository(session).by_email(email)

    async def existing_ids(self, session: AsyncSession, ids: Sequence[int]) -> set[int]:
        return await UserRepository(session).existing_ids(ids)

    async def acting_as(self, session: AsyncSession, user_id: int | None) -> Actor | None:
        """Who background work owned by ``user_id`` acts as (a segment's rebuild, a
        campaign's steps): the user's current permissions, or None when no user owns it.
        A deactivated or deleted owner's work acts on nothing."""
        if user_id is None:
            return None
        user = await UserRepository(session).get(user_id)
        if user is None or not user.is_active:
            return Actor(type="user", name="former user", user_id=user_id)
        return actor_for_user(user, origin=RequestOrigin())

    async def get(self, session: AsyncSession, user_id: int, *, actor: Actor) -> User:
        if user_id != actor.user_id:
            actor.require("users", Perm.VIEW_OTHERS)
        user = await UserRepository(session).get(user_id)
        if user is None:
            raise NotFound(f"No user with id {user_id}.")
        return user

    async def list_page(
        self, session: AsyncSession, *, actor: Actor, page: PageRequest, q: str | None
    ) -> Page[User]:
        actor.require("users", Perm.VIEW_OTHERS)
        return await UserRepository(session).list_page(page=page, q=q)

    async def _role(self, session: AsyncSession, role_id: int, pointer: str) -> Role:
        role = await RoleRepository(session).get(role_id)
        if role is None:
            raise ValidationFailed(
                f"No role with id {role_id}.", [FieldError(pointer, "Unknown role.", "not_found")]
            )
        return role

    async def create(
        self, session: AsyncSession, *, data: UserCreate, actor: Actor, now: datetime
    ) -> User:
        actor.require("users", Perm.CREATE)
        repo = UserRepository(session)
        errors = _password_errors(data.password, email=data.email, pointer="/password")
        if errors:
            raise ValidationFailed("The password is too weak.", errors)
        role = await self._role(session, data.role_id, "/role_id")
        if role.is_admin and not actor.is_admin:
            raise PermissionDenied("Only administrators can create administrators.")
        if await repo.email_taken(data.email):
            raise Conflict(
                f"A user with the email {data.email} exists.",
                [FieldError("/email", "This email is taken.", "duplicate")],
            )
        user = User(
            email=data.email,
            name=data.name,
            password_hash=security.hash_password(data.password),
            role_id=role.id,
            timezone=data.timezone,
            locale=data.locale,
            is_active=data.is_active,
            created_at=now,
            updated_at=now,
        )
        user.role = role
        repo.add(user)
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action=AuditAction.CREATE,
            entity_type="user",
            entity_id=user.id,
            entity_name=user.email,
            changes=diff({}, _user_snapshot(user, role.name), redact=["password"]),
            now=now,
        )
        return user

    async def update(
        self,
        session: AsyncSession,
        user_id: int,
        *,
        data: UserUpdate,
        actor: Actor,
        now: datetime,
        expected_version: int | None,
    ) -> User:
        repo = UserRepository(session)
        user = await repo.get(user_id)
        if user is None:
            raise NotFound(f"No user with id {user_id}.")
        changes = data.model_dump(exclude_unset=True, exclude_none=True)
        own_profile_fields = {"name", "timezone", "locale"}
        if user.id == actor.user_id:
            actor.require_account_access()
        if user.id != actor.user_id or set(changes) - own_profile_fields:
            actor.require("users", Perm.EDIT_OTHERS)
        check_version(user, expected_version)
        before = _user_snapshot(user, user.role.name)
        if (
            "email" in changes
            and changes["email"] != user.email
            and await repo.email_taken(changes["email"], except_id=user.id)
        ):
            raise Conflict(
                f"A user with the email {changes['email']} exists.",
                [FieldError("/email", "This email is taken.", "duplicate")],
            )
        if "password" in changes:
            errors = _password_errors(
                changes["password"], email=changes.get("email", user.email), pointer="/password"
            )
            if errors:
                raise ValidationFailed("The password is too weak.", errors)
            user.password_hash = security.hash_password(changes.pop("password"))
        if "role_id" in changes and changes["role_id"] != user.role_id:
            role = await self._role(session, changes.pop("role_id"), "/role_id")
            if (role.is_admin or user.role.is_admin) and not actor.is_admin:
                raise PermissionDenied("Only administrators can grant or revoke administration.")
            if user.role.is_admin and not role.is_admin:
                await self._keep_an_admin(session, user)
            user.role_id = role.id
            user.role = role
        changes.pop("role_id", None)
        if changes.get("is_active") is False and user.role.is_admin:
            await self._keep_an_admin(session, user)
        for field, value in changes.items():
            setattr(user, field, value)
        after = _user_snapshot(user, user.role.name)
        if after != before:
            user.version += 1
            user.updated_at = now
            await session.flush()
            if after["password"] != before["password"] or not user.is_active:
                await SessionRepository(session).delete_for_user(user.id)
            await audit.record(
                session,
                actor=actor,
                action=AuditAction.UPDATE,
                entity_type="user",
                entity_id=user.id,
                entity_name=user.email,
                changes=diff(before, after, redact=["password"]),
                now=now,
            )
        return user

    async def _keep_an_admin(self, session: AsyncSession, user: User) -> None:
        if await UserRepository(session).count_active_admins(except_id=user.id) == 0:
            raise Conflict("This is the last active administrator; appoint another one first.")

    async def delete(
        self, session: AsyncSession, user_id: int, *, actor: Actor, now: datetime
    ) -> None:
        actor.require("users", Perm.DELETE_OTHERS)
        repo = UserRepository(session)
        user = await repo.get(user_id)
        if user is None:
            raise NotFound(f"No user with id {user_id}.")
        if user.id == actor.user_id:
            raise Conflict("You cannot delete yourself.")
        if user.role.is_admin:
            if not actor.is_admin:
                raise PermissionDenied("Only administrators can delete administrators.")
            await self._keep_an_admin(session, user)
        snapshot = _user_snapshot(user, user.role.name)
        await repo.delete(user)
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action=AuditAction.DELETE,
            entity_type="user",
            entity_id=user_id,
            entity_name=snapshot["email"],
            changes=diff(snapshot, {}, redact=["password"]),
            now=now,
        )

    async def change_own_password(
        self,
        session: AsyncSession,
        *,
        actor: Actor,
        current_password: str,
        new_password: str,
        now: datetime,
        keep_session_id: int | None,
        revoke_tokens: bool = False,
    ) -> int:
        """Change the caller's password; other sessions end. Returns the tokens revoked."""
        if actor.user_id is None:
            raise NotAuthenticated("Sign in to change your password.")
        actor.require_account_access()
        user = await UserRepository(session).get(actor.user_id)
        if user is None:
            raise NotAuthenticated("Sign in to change your password.")
        if not security.verify_password(user.password_hash, current_password):
            raise ValidationFailed(
                "The current password is wrong.",
                [FieldError("/current_password", "Wrong password.", "wrong_password")],
            )
        errors = _password_errors(new_password, email=user.email, pointer="/new_password")
        if errors:
            raise ValidationFailed("The password is too weak.", errors)
        user.password_hash = security.hash_password(new_password)
        user.must_change_password = False
        user.version += 1
        user.updated_at = now
        await SessionRepository(session).delete_for_user(user.id, keep_id=keep_session_id)
        revoked = (
            await TokenRepository(session).revoke_for_user(user.id, now=now) if revoke_tokens else 0
        )
        await session.flush()
        changes: dict[str, Any] = {"password": {"old": "[redacted]", "new": "[redacted]"}}
        if revoked:
            changes["tokens_revoked"] = {"old": None, "new": revoked}
        await audit.record(
            session,
            actor=actor,
            action=AuditAction.UPDATE,
            entity_type="user",
            entity_id=user.id,
            entity_name=user.email,
            changes=changes,
            now=now,
        )
        return revoked

    async def create_first_admin(
        self,
        session: AsyncSession,
        *,
        email: str,
        name: str,
        password: str,
        now: datetime,
        must_change_password: bool = False,
    ) -> User:
        """The first administrator, made by setup or the CLI while no user exists."""
        await role_service.ensure_builtin(session, now=now)
        if await UserRepository(session).count() > 0:
            raise Conflict("Trellis is already set up; sign in instead.")
        errors = _password_errors(password, email=email, pointer="/password")
        if errors:
            raise ValidationFailed("The password is too weak.", errors)
        role = await RoleRepository(session).by_name(ADMINISTRATOR)
        assert role is not None
        user = User(
            email=email.strip().lower(),
            name=name,
            password_hash=security.hash_password(password),
            role_id=role.id,
            must_change_password=must_change_password,
            created_at=now,
            updated_at=now,
        )
        user.role = role
        UserRepository(session).add(user)
        await session.flush()
        await audit.record(
            session,
            actor=Actor.system("setup"),
            action=AuditAction.CREATE,
            entity_type="user",
            entity_id=user.id,
            entity_name=user.email,
            changes=diff({}, _user_snapshot(user, role.name), redact=["password"]),
            now=now,
        )
        return user


class TokenService:
    async def create(
        self,
        session: AsyncSession,
        *,
        data: TokenCreate,
        actor: Actor,
        now: datetime,
        for_user_id: int | None = None,
    ) -> tuple[ApiToken, str]:
        if actor.user_id is None and for_user_id is None:
            raise NotAuthenticated("Tokens belong to users; sign in first.")
        if actor.type == "token":
            raise PermissionDenied("An API token cannot create tokens; sign in as the user.")
        owner_id = for_user_id if for_user_id is not None else actor.user_id
        assert owner_id is not None
        if owner_id != actor.user_id:
            actor.require("api_tokens", Perm.CREATE)
        if data.expires_at is not None and data.expires_at <= now:
            raise ValidationFailed(
                "The expiry must be in the future.",
                [FieldError("/expires_at", "Must be in the future.", "in_past")],
            )
        secret = security.new_secret(security.TOKEN_PREFIX)
        token = ApiToken(
            user_id=owner_id,
            name=data.name,
            prefix=secret[: len(security.TOKEN_PREFIX) + 6],
            secret_hash=security.hash_secret(secret),
            scopes=data.scopes,
            created_at=now,
            expires_at=data.expires_at,
        )
        TokenRepository(session).add(token)
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action=AuditAction.CREATE,
            entity_type="api_token",
            entity_id=token.id,
            entity_name=token.name,
            changes=diff(
                {},
                {
                    "name": token.name,
                    "user_id": owner_id,
                    "scopes": token.scopes,
                    "expires_at": token.expires_at.isoformat() if token.expires_at else None,
                },
            ),
            now=now,
        )
        return token, secret

    async def list_page(
        self, session: AsyncSession, *, actor: Actor, page: PageRequest, user_id: int | None
    ) -> Page[ApiToken]:
        target = user_id if user_id is not None else actor.user_id
        if target != actor.user_id:
            actor.require("api_tokens", Perm.VIEW_OTHERS)
        else:
            actor.require_account_access()
        return await TokenRepository(session).list_page(page=page, user_id=target)

    async def revoke(
        self, session: AsyncSession, token_id: int, *, actor: Actor, now: datetime
    ) -> None:
        token = await TokenRepository(session).get(token_id)
        if token is None or token.revoked_at is not None:
            raise NotFound(f"No token with id {token_id}.")
        if token.user_id != actor.user_id:
            actor.require("api_tokens", Perm.DELETE_OTHERS)
        elif token.id != actor.token_id:
            # A token may always revoke itself (a program signing off), not its siblings.
            actor.require_account_access()
        token.revoked_at = now
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action=AuditAction.DELETE,
            entity_type="api_token",
            entity_id=token.id,
            entity_name=token.name,
            changes={"revoked_at": {"old": None, "new": now.isoformat()}},
            now=now,
        )


role_service = RoleService()
user_service = UserService()
token_service = TokenService()
