"""Notifications for users: written by other services, read by the user they are for."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor
from trellis.db.models import Notification
from trellis.db.pagination import Page, PageRequest
from trellis.domains.notifications.repository import NotificationRepository
from trellis.errors import NotAuthenticated, NotFound


def _own_user(actor: Actor) -> int:
    # Notifications belong to a person; a system actor has no inbox.
    if actor.user_id is None:
        raise NotAuthenticated("Notifications belong to a user; sign in or use a user's token.")
    return actor.user_id


class NotificationService:
    async def notify(
        self,
        session: AsyncSession,
        *,
        user_ids: Sequence[int | None],
        kind: str,
        title: str,
        body: str = "",
        link: str | None = None,
        now: datetime,
    ) -> list[int]:
        """Notify the given users, or every active administrator when none of them can be
        reached (a campaign whose creator left, say), so that nothing goes unseen."""
        repo = NotificationRepository(session)
        wanted = sorted({u for u in user_ids if u is not None})
        recipients = await repo.active_user_ids(wanted) if wanted else []
        if not recipients:
            recipients = await repo.active_administrator_ids()
        await repo.add_many(recipients, kind=kind, title=title[:200], body=body, link=link, now=now)
        return recipients

    async def page(
        self, session: AsyncSession, *, actor: Actor, unread: bool | None, page: PageRequest
    ) -> Page[Notification]:
        return await NotificationRepository(session).page_for(
            _own_user(actor), unread=unread, page=page
        )

    async def mark_read(
        self, session: AsyncSession, *, actor: Actor, notification_id: int | None, now: datetime
    ) -> int:
        user_id = _own_user(actor)
        repo = NotificationRepository(session)
        if notification_id is not None and not await repo.exists_for(user_id, notification_id):
            raise NotFound("No such notification.")
        return await repo.mark_read(user_id, notification_id=notification_id, now=now)


notification_service = NotificationService()
