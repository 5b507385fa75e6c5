from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from trellis.db.models import AuditEntry
from trellis.db.pagination import Page, PageRequest, order_by_sort, paginate


@dataclass(frozen=True)
class AuditFilter:
    entity_type: str | None = None
    entity_id: int | None = None
    actor_type: str | None = None
    actor_id: int | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, entry: AuditEntry) -> None:
        self.session.add(entry)

    async def list_page(self, *, filters: AuditFilter, page: PageRequest) -> Page[AuditEntry]:
        stmt = select(AuditEntry)
        if filters.entity_type is not None:
            stmt = stmt.where(AuditEntry.entity_type == filters.entity_type)
        if filters.entity_id is not None:
            stmt = stmt.where(AuditEntry.entity_id == filters.entity_id)
        if filters.actor_type is not None:
            stmt = stmt.where(AuditEntry.actor_type == filters.actor_type)
        if filters.actor_id is not None:
            stmt = stmt.where(AuditEntry.actor_id == filters.actor_id)
        if filters.action is not None:
            stmt = stmt.where(AuditEntry.action == filters.action)
        if filters.since is not None:
            stmt = stmt.where(AuditEntry.occurred_at >= filters.since)
        if filters.until is not None:
            stmt = stmt.where(AuditEntry.occurred_at < filters.until)
        order = order_by_sort(
            page.sort,
            allowed={"id": AuditEntry.id, "occurred_at": AuditEntry.occurred_at},
            default="-id",
            tiebreaker=AuditEntry.id.desc(),
        )
        return await paginate(self.session, stmt, page=page, order_by=order)
