"""Signing in: throttled password checks, and browser sessions with their lifetimes."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor
from trellis.db.models import User, UserSession
from trellis.domains.users import security
from trellis.domains.users.repository import (
    LoginThrottleRepository,
    SessionRepository,
    TokenRepository,
    UserRepository,
)
from trellis.domains.users.service import RequestOrigin, UsageSink, Use, actor_for_user
from trellis.errors import NotAuthenticated, TooManyRequests


@dataclass(frozen=True)
class AuthPolicy:
    session_hours: int = 12
    session_max_hours: int = 72
    attempts_per_minute_per_ip: int = 20
    free_failures: int = 5
    max_delay_s: int = 60

    def delay_after(self, failures: int) -> timedelta:
        """How long an account waits for its next sign-in attempt after ``failures`` in a
        row: nothing at first, then 1 s, doubling up to the cap. The cap is what keeps the
        owner able to sign in while someone guesses."""
        if failures < self.free_failures:
            return timedelta(0)
        exponent = min(failures - self.free_failures, 30)
        return timedelta(seconds=min(2**exponent, self.max_delay_s))


@dataclass(frozen=True)
class NewSession:
    """A session just opened: the secrets go into cookies and are not kept in clear."""

    secret: str
    csrf_token: str
    expires_at: datetime
    user: User


def _retry_after(until: datetime, now: datetime) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil((until - now).total_seconds())))}


def account_key(email: str) -> str:
    return "account:" + email.strip().lower()[:320]


def address_key(origin: RequestOrigin) -> str:
    return "ip:" + (origin.ip or "unknown")


def _session_expiry(policy: AuthPolicy, *, created_at: datetime, now: datetime) -> datetime:
    """Idle lifetime from now, but never past the absolute lifetime from sign-in."""
    return min(
        now + timedelta(hours=policy.session_hours),
        created_at + timedelta(hours=policy.session_max_hours),
    )


class AuthService:
    async def claim_attempt(
        self,
        session: AsyncSession,
        *,
        email: str,
        origin: RequestOrigin,
        policy: AuthPolicy,
        now: datetime,
    ) -> None:
        """Count a sign-in attempt before the password is checked, or refuse it with 429.

        The attempt is counted as a failure in advance (a success takes it back), under a lock
        on the address's and the account's rows: the caller commits before checking the
        password, so parallel guesses are counted one by one instead of all reading the same
        count. Unknown accounts are counted and answered exactly like existing ones.
        """
        ip_key, user_key = address_key(origin), account_key(email)
        rows = await LoginThrottleRepository(session).lock([ip_key, user_key], now=now)
        by_ip, by_account = rows[ip_key], rows[user_key]
        window_end = by_ip.window_start + timedelta(minutes=1)
        if window_end <= now:
            by_ip.window_start, by_ip.attempts = now, 0
            window_end = now + timedelta(minutes=1)
        if by_ip.attempts >= policy.attempts_per_minute_per_ip:
            raise TooManyRequests(
                "Too many sign-in attempts from your address; wait a minute.",
                headers=_retry_after(window_end, now),
            )
        if by_account.next_attempt_at is not None and by_account.next_attempt_at > now:
            raise TooManyRequests(
                "Too many failed sign-ins for this account; wait a moment and try again.",
                headers=_retry_after(by_account.next_attempt_at, now),
            )
        by_ip.attempts += 1
        by_ip.updated_at = now
        by_account.failures += 1
        by_account.next_attempt_at = now + policy.delay_after(by_account.failures)
        by_account.updated_at = now
        await session.flush()

    async def login(
        self,
        session: AsyncSession,
        *,
        email: str,
        password: str,
        origin: RequestOrigin,
        policy: AuthPolicy,
        now: datetime,
    ) -> NewSession:
        """Check the password of an attempt :meth:`claim_attempt` let through."""
        user = await UserRepository(session).by_email(email)
        # argon2 is deliberately slow (tens of milliseconds of CPU) and releases the GIL: in a
        # thread, a burst of sign-ins neither stalls every other request nor each other.
        password_ok = await asyncio.to_thread(
            security.verify_password, user.password_hash if user else None, password
        )
        if user is None or not password_ok or not user.is_active:
            raise LoginFailed("The email or password is wrong.")
        if security.needs_rehash(user.password_hash):
            user.password_hash = security.hash_password(password)
        # The attempt was counted as a failure in advance; it was not one. The address gets
        # its attempt back (people behind one NAT signing in all day are not guessing), the
        # account starts counting again.
        ip_key, user_key = address_key(origin), account_key(email)
        rows = await LoginThrottleRepository(session).lock([ip_key, user_key], now=now)
        rows[ip_key].attempts = max(0, rows[ip_key].attempts - 1)
        rows[user_key].failures, rows[user_key].next_attempt_at = 0, None
        for row in rows.values():
            row.updated_at = now
        user.last_login_at = now
        return await self.open_session(session, user=user, origin=origin, policy=policy, now=now)

    async def open_session(
        self,
        session: AsyncSession,
        *,
        user: User,
        origin: RequestOrigin,
        policy: AuthPolicy,
        now: datetime,
    ) -> NewSession:
        secret = security.new_secret()
        csrf = security.new_secret()
        expires_at = _session_expiry(policy, created_at=now, now=now)
        SessionRepository(session).add(
            UserSession(
                user_id=user.id,
                secret_hash=security.hash_secret(secret),
                csrf_token=csrf,
                created_at=now,
                expires_at=expires_at,
                last_seen_at=now,
                ip=origin.ip,
                user_agent=(origin.user_agent or "")[:512] or None,
            )
        )
        await session.flush()
        return NewSession(secret=secret, csrf_token=csrf, expires_at=expires_at, user=user)

    async def logout(self, session: AsyncSession, *, secret: str) -> None:
        await SessionRepository(session).delete_by_secret_hash(security.hash_secret(secret))

    async def resolve_session(
        self,
        session: AsyncSession,
        *,
        secret: str,
        origin: RequestOrigin,
        policy: AuthPolicy,
        now: datetime,
        uses: UsageSink,
    ) -> tuple[Actor, UserSession] | None:
        repo = SessionRepository(session)
        user_session = await repo.by_secret_hash(security.hash_secret(secret))
        if user_session is None or user_session.expires_at <= now:
            return None
        # Sessions opened before the absolute lifetime was shortened end by the new one.
        if user_session.created_at + timedelta(hours=policy.session_max_hours) <= now:
            return None
        user = await UserRepository(session).get(user_session.user_id)
        if user is None or not user.is_active:
            return None
        # Slide the expiry, but write at most once a minute per session.
        if now - user_session.last_seen_at > timedelta(minutes=1):
            expires_at = _session_expiry(policy, created_at=user_session.created_at, now=now)
            uses.add(Use("session", user_session.id, now, session_expires_at=expires_at))
        return actor_for_user(user, origin=origin), user_session

    async def resolve_token(
        self,
        session: AsyncSession,
        *,
        secret: str,
        origin: RequestOrigin,
        now: datetime,
        uses: UsageSink,
    ) -> Actor | None:
        if not secret.startswith(security.TOKEN_PREFIX):
            return None
        repo = TokenRepository(session)
        token = await repo.by_secret_hash(security.hash_secret(secret))
        if token is None or (token.expires_at is not None and token.expires_at <= now):
            return None
        if not token.user.is_active:
            return None
        if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
            uses.add(Use("token", token.id, now))
        return actor_for_user(token.user, origin=origin, token=token)

    async def record_uses(self, session: AsyncSession, uses: Sequence[Use]) -> None:
        """Write a batch of credential uses (the latest per token and session)."""
        tokens: dict[int, datetime] = {}
        sessions: dict[int, tuple[datetime, datetime]] = {}
        for use in uses:
            if use.kind == "token":
                tokens[use.id] = max(use.at, tokens.get(use.id, use.at))
            elif use.session_expires_at is not None:
                previous = sessions.get(use.id)
                if previous is None or previous[0] < use.at:
                    sessions[use.id] = (use.at, use.session_expires_at)
        await TokenRepository(session).touch_many(tokens)
        await SessionRepository(session).touch_many(sessions)

    async def purge_expired(self, session: AsyncSession, *, now: datetime) -> int:
        removed = await SessionRepository(session).delete_expired(now)
        removed += await LoginThrottleRepository(session).delete_idle(now - timedelta(days=1))
        return removed


class LoginFailed(NotAuthenticated):
    """A wrong email or password (the same answer for both)."""


auth_service = AuthService()
