"""Every query on import jobs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from trellis.db.models import ContactImport
from trellis.db.pagination import Page, PageRequest, order_by_sort, paginate


class ImportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, item: ContactImport) -> None:
        self.session.add(item)

    async def get(self, import_id: int) -> ContactImport | None:
        return await self.session.get(ContactImport, import_id)

    async def claim(self, import_id: int, values: dict[str, Any]) -> bool:
        """Move a queued import to running; False when another worker has it (or it ran)."""
        result = await self.session.execute(
            update(ContactImport)
            .where(ContactImport.id == import_id, ContactImport.status == "queued")
            .values(status="running", **values)
        )
        return bool(getattr(result, "rowcount", 0))

    async def set_values(self, import_id: int, values: dict[str, Any]) -> None:
        await self.session.execute(
            update(ContactImport).where(ContactImport.id == import_id).values(**values)
        )

    async def list_page(self, *, page: PageRequest, created_by_id: int | None) -> Page[Any]:
        stmt = select(ContactImport)
        if created_by_id is not None:
            stmt = stmt.where(ContactImport.created_by_id == created_by_id)
        order = order_by_sort(
            page.sort,
            allowed={"id": ContactImport.id, "created_at": ContactImport.created_at},
            default="-id",
            tiebreaker=ContactImport.id,
        )
        return await paginate(self.session, stmt, page=page, order_by=order)
