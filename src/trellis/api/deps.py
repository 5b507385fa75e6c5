"""Request dependencies: the unit of work, the clock, the acting user, ETags."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor
from trellis.clock import Clock
from trellis.db.session import Database
from trellis.domains.users import security
from trellis.domains.users.service import RequestOrigin, UsageSink
from trellis.domains.users.sign_in import AuthPolicy, auth_service
from trellis.errors import FieldError, NotAuthenticated, PermissionDenied, ValidationFailed
from trellis.settings import Settings

SESSION_COOKIE = "trellis_session"
CSRF_COOKIE = "trellis_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    database = get_database(request)
    async with database.unit_of_work(read_only=request.method in SAFE_METHODS) as session:
        yield session


async def get_writing_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A writer's unit of work whatever the method: for the few reads that record something
    (an export is audited). A read transaction that starts writing late fails on SQLite when
    another writer committed since it began ("database is busy")."""
    async with get_database(request).unit_of_work() as session:
        yield session


def get_now(request: Request) -> datetime:
    return get_clock(request).now()


def get_origin(request: Request) -> RequestOrigin:
    return RequestOrigin(
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


def auth_policy(settings: Settings) -> AuthPolicy:
    return AuthPolicy(
        session_hours=settings.auth.session_hours,
        session_max_hours=settings.auth.session_max_hours,
        attempts_per_minute_per_ip=settings.auth.login_attempts_per_minute_per_ip,
        free_failures=settings.auth.login_free_failures,
        max_delay_s=settings.auth.login_max_delay_s,
    )


def get_auth_policy(request: Request) -> AuthPolicy:
    return auth_policy(get_settings_dep(request))


def set_session_cookies(
    request: Request, response: Response, *, secret: str, csrf_token: str
) -> None:
    """The session secret is HttpOnly; the CSRF token is readable so the UI can echo it."""
    settings = get_settings_dep(request)
    # The server ends the session (idle or absolute lifetime); the cookie only has to last.
    max_age = max(settings.auth.session_hours, settings.auth.session_max_hours) * 3600
    for name, value, http_only in (
        (SESSION_COOKIE, secret, True),
        (CSRF_COOKIE, csrf_token, False),
    ):
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            httponly=http_only,
            secure=settings.cookie_secure,
            samesite="lax",
            path="/",
        )


# scope="function": the transaction commits when the endpoint returns, before the response
# is sent, so a failed commit becomes an error response instead of a lost write.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
WritingSessionDep = Annotated[AsyncSession, Depends(get_writing_session, scope="function")]
NowDep = Annotated[datetime, Depends(get_now)]
OriginDep = Annotated[RequestOrigin, Depends(get_origin)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
AuthPolicyDep = Annotated[AuthPolicy, Depends(get_auth_policy)]


def _uses(request: Request) -> UsageSink:
    uses: UsageSink = request.app.state.credential_uses
    return uses


async def optional_actor(
    request: Request, session: SessionDep, now: NowDep, origin: OriginDep
) -> Actor | None:
    """The caller, from a Bearer token or a session cookie (with its CSRF check)."""
    actor: Actor | None = None
    authorization = request.headers.get("authorization")
    if authorization:
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            raise NotAuthenticated(
                "Use 'Authorization: Bearer <token>'.",
                headers={"WWW-Authenticate": 'Bearer realm="trellis"'},
            )
        actor = await auth_service.resolve_token(
            session, secret=credentials.strip(), origin=origin, now=now, uses=_uses(request)
        )
        if actor is None:
            raise NotAuthenticated(
                "The API token is unknown, revoked or expired.",
                headers={"WWW-Authenticate": 'Bearer realm="trellis", error="invalid_token"'},
            )
    else:
        secret = request.cookies.get(SESSION_COOKIE)
        if secret:
            settings: Settings = request.app.state.settings
            resolved = await auth_service.resolve_session(
                session,
                secret=secret,
                origin=origin,
                policy=auth_policy(settings),
                now=now,
                uses=_uses(request),
            )
            if resolved is not None:
                actor, user_session = resolved
                request.state.session_id = user_session.id
                if request.method not in SAFE_METHODS:
                    sent = request.headers.get(CSRF_HEADER, "")
                    if not sent or not security.same_secret(sent, user_session.csrf_token):
                        raise PermissionDenied(
                            f"Missing or wrong {CSRF_HEADER} header for a cookie-authenticated "
                            "request."
                        )
    return actor


async def current_actor(
    actor: Annotated[Actor | None, Depends(optional_actor)],
) -> Actor:
    if actor is None:
        raise NotAuthenticated(
            "Sign in, or send an API token as 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": 'Bearer realm="trellis"'},
        )
    return actor


ActorDep = Annotated[Actor, Depends(current_actor)]

_ETAG = re.compile(r'^(?:W/)?"(\d+)"$')


def if_match(request: Request) -> int | None:
    """The version the client last saw, from ``If-Match``; None when it sent none."""
    header = request.headers.get("if-match")
    if header is None or header.strip() == "*":
        return None
    match = _ETAG.match(header.strip())
    if match is None:
        raise ValidationFailed(
            'If-Match must be an ETag this API returned, such as "3".',
            [FieldError("", "Malformed ETag.", "invalid_etag", parameter="If-Match")],
        )
    return int(match.group(1))


IfMatchDep = Annotated[int | None, Depends(if_match)]


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'
