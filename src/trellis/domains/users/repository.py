from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from trellis.db.base import table_of
from trellis.db.dialect import insert_ignoring_conflicts
from trellis.db.models import ApiToken, LoginThrottle, Role, User, UserSession
from trellis.db.pagination import Page, PageRequest, order_by_sort, paginate, text_search


class RoleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, role_id: int) -> Role | None:
        return await self.session.get(Role, role_id)

    async def by_name(self, name: str) -> Role | None:
        return await self.session.scalar(select(Role).where(func.lower(Role.name) == name.lower()))

    async def all_builtin(self) -> list[Role]:
        return list((await self.session.scalars(select(Role).where(Role.is_builtin))).all())

    async def list_page(self, *, page: PageRequest) -> Page[Role]:
        order = order_by_sort(
            page.sort,
            allowed={"name": Role.name, "created_at": Role.created_at},
            default="name",
            tiebreaker=Role.id,
        )
        return await paginate(self.session, select(Role), page=page, order_by=order)

    async def user_count(self, role_id: int) -> int:
        return int(
            await self.session.scalar(select(func.count()).where(User.role_id == role_id)) or 0
        )

    def add(self, role: Role) -> None:
        self.session.add(role)

    async def delete(self, role: Role) -> None:
        await self.session.delete(role)


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: int) -> User | None:
        return await self.session.scalar(
            select(User).options(joinedload(User.role)).where(User.id == user_id)
        )

    async def by_email(self, email: str) -> User | None:
        return await self.session.scalar(
            select(User).options(joinedload(User.role)).where(User.email == email.strip().lower())
        )

    async def email_taken(self, email: str, *, except_id: int | None = None) -> bool:
        stmt = select(User.id).where(User.email == email)
        if except_id is not None:
            stmt = stmt.where(User.id != except_id)
        return (await self.session.scalar(stmt)) is not None

    async def count_active_admins(self, *, except_id: int | None = None) -> int:
        stmt = (
            select(func.count())
            .select_from(User)
            .join(Role, Role.id == User.role_id)
            .where(Role.is_admin, User.is_active)
        )
        if except_id is not None:
            stmt = stmt.where(User.id != except_id)
        return int(await self.session.scalar(stmt) or 0)

    async def existing_ids(self, ids: Sequence[int]) -> set[int]:
        if not ids:
            return set()
        return set((await self.session.scalars(select(User.id).where(User.id.in_(ids)))).all())

    async def count(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(User)) or 0)

    async def list_page(self, *, page: PageRequest, q: str | None) -> Page[User]:
        stmt = select(User).options(joinedload(User.role))
        if q:
            stmt = stmt.where(text_search(q, User.email, User.name))
        order = order_by_sort(
            page.sort,
            allowed={
                "email": User.email,
                "name": User.name,
                "created_at": User.created_at,
                "last_login_at": User.last_login_at,
            },
            default="email",
            tiebreaker=User.id,
        )
        return await paginate(self.session, stmt, page=page, order_by=order)

    def add(self, user: User) -> None:
        self.session.add(user)

    async def delete(self, user: User) -> None:
        await self.session.delete(user)


class TokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, token_id: int) -> ApiToken | None:
        return await self.session.get(ApiToken, token_id)

    async def by_secret_hash(self, secret_hash: str) -> ApiToken | None:
        return await self.session.scalar(
            select(ApiToken)
            .options(joinedload(ApiToken.user).joinedload(User.role))
            .where(ApiToken.secret_hash == secret_hash, ApiToken.revoked_at.is_(None))
        )

    async def list_page(self, *, page: PageRequest, user_id: int | None) -> Page[ApiToken]:
        stmt = select(ApiToken).where(ApiToken.revoked_at.is_(None))
        if user_id is not None:
            stmt = stmt.where(ApiToken.user_id == user_id)
        order = order_by_sort(
            page.sort,
            allowed={"name": ApiToken.name, "created_at": ApiToken.created_at},
            default="-created_at",
            tiebreaker=ApiToken.id,
        )
        return await paginate(self.session, stmt, page=page, order_by=order)

    def add(self, token: ApiToken) -> None:
        self.session.add(token)

    async def revoke_for_user(self, user_id: int, *, now: datetime) -> int:
        result = await self.session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def touch_many(self, used: Mapping[int, datetime]) -> None:
        """When each token was last used (only ever moved forward)."""
        if not used:
            return
        await self.session.execute(
            update(table_of(ApiToken))
            .where(
                ApiToken.id == bindparam("_id"),
                or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < bindparam("_at")),
            )
            .values(last_used_at=bindparam("_at")),
            [{"_id": k, "_at": v} for k, v in sorted(used.items())],
        )


class SessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, user_session: UserSession) -> None:
        self.session.add(user_session)

    async def by_secret_hash(self, secret_hash: str) -> UserSession | None:
        return await self.session.scalar(
            select(UserSession).where(UserSession.secret_hash == secret_hash)
        )

    async def delete_by_secret_hash(self, secret_hash: str) -> None:
        await self.session.execute(
            delete(UserSession).where(UserSession.secret_hash == secret_hash)
        )

    async def delete_for_user(self, user_id: int, *, keep_id: int | None = None) -> None:
        stmt = delete(UserSession).where(UserSession.user_id == user_id)
        if keep_id is not None:
            stmt = stmt.where(UserSession.id != keep_id)
        await self.session.execute(stmt)

    async def delete_expired(self, now: datetime) -> int:
        result = await self.session.execute(delete(UserSession).where(UserSession.expires_at < now))
        return int(getattr(result, "rowcount", 0) or 0)

    async def touch_many(self, seen: Mapping[int, tuple[datetime, datetime]]) -> None:
        """(last seen, new expiry) per session (only ever moved forward)."""
        if not seen:
            return
        await self.session.execute(
            update(table_of(UserSession))
            .where(UserSession.id == bindparam("_id"), UserSession.last_seen_at < bindparam("_at"))
            .values(last_seen_at=bindparam("_at"), expires_at=bindparam("_expires")),
            [{"_id": k, "_at": at, "_expires": exp} for k, (at, exp) in sorted(seen.items())],
        )


class LoginThrottleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock(self, keys: Sequence[str], *, now: datetime) -> dict[str, LoginThrottle]:
        """The rows of ``keys``, created when missing and locked until the transaction ends
        (``FOR UPDATE`` on PostgreSQL; SQLite's unit of work already holds the write lock),
        so that parallel sign-ins on one address or account are counted one after another."""
        await self.session.execute(
            insert_ignoring_conflicts(self.session, LoginThrottle),
            [
                {
                    "key": key,
                    "window_start": now,
                    "attempts": 0,
                    "failures": 0,
                    "next_attempt_at": None,
                    "updated_at": now,
                }
                # In the order of the locks below: attempts lock in one order, never deadlock.
                for key in sorted(keys)
            ],
        )
        rows = await self.session.scalars(
            select(LoginThrottle)
            .where(LoginThrottle.key.in_(list(keys)))
            .order_by(LoginThrottle.key)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return {row.key: row for row in rows}

    async def delete_idle(self, before: datetime) -> int:
        result = await self.session.execute(
            delete(LoginThrottle).where(
                LoginThrottle.updated_at < before,
                or_(
                    LoginThrottle.next_attempt_at.is_(None),
                    LoginThrottle.next_attempt_at < before,
                ),
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)
