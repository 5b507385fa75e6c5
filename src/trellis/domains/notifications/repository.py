from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from trellis.db.models import Notification, Role, User
from trellis.db.pagination import Page, PageRequest, order_by_sort, paginate

_SORTS = {"created_at": Notification.created_at}


class NotificationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_many(
        self,
        user_ids: Sequence[int],
        *,
        kind: str,
        title: str,
        body: str,
        link: str | None,
        now: datetime,
    ) -> None:
        if not user_ids:
            return
        await self.session.execute(
            insert(Notification),
            [
                {
                    "user_id": user_id,
                    "kind": kind,
                    "title": title,
                    "body": body,
                    "link": link,
                    "created_at": now,
                    "read_at": None,
                }
                for user_id in user_ids
            ],
        )

    async def active_user_ids(self, user_ids: Sequence[int]) -> list[int]:
        rows = await self.session.scalars(
            select(User.id).where(User.id.in_(user_ids), User.is_active.is_(True))
        )
        return list(rows)

    async def active_administrator_ids(self) -> list[int]:
        rows = await self.session.scalars(
            select(User.id)
            .join(Role, Role.id == User.role_id)
            .where(Role.is_admin.is_(True), User.is_active.is_(True))
        )
        return list(rows)

    async def page_for(
        self, user_id: int, *, unread: bool | None, page: PageRequest
    ) -> Page[Notification]:
        stmt = select(Notification).where(Notification.user_id == user_id)
        if unread is True:
            stmt = stmt.where(Notification.read_at.is_(None))
        elif unread is False:
            stmt = stmt.where(Notification.read_at.is_not(None))
        order = order_by_sort(
            page.sort, allowed=_SORTS, default="-created_at", tiebreaker=Notification.id.desc()
        )
        return await paginate(self.session, stmt, page=page, order_by=order)

    async def mark_read(self, user_id: int, *, notification_id: int | None, now: datetime) -> int:
        stmt = (
            update(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
            .values(read_at=now)
        )
        if notification_id is not None:
            stmt = stmt.where(Notification.id == notification_id)
        result = await self.session.execute(stmt)
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def exists_for(self, user_id: int, notification_id: int) -> bool:
        found = await self.session.scalar(
            select(Notification.id).where(
                Notification.id == notification_id, Notification.user_id == user_id
            )
        )
        return found is not None
