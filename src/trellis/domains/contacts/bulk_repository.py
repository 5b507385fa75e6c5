"""Set-based changes to many contacts at once, for campaign steps and bulk actions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from trellis.db.base import table_of
from trellis.db.cleanup import delete_contact_rows
from trellis.db.dialect import ids_in
from trellis.db.json import merged, without_key
from trellis.db.models import Contact

CHUNK = 5000


def _chunks(items: Sequence[int]) -> list[Sequence[int]]:
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]


class ContactBulkRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def set_columns(
        self, contact_ids: Sequence[int], values: Mapping[str, Any], *, now: datetime
    ) -> None:
        for part in _chunks(list(contact_ids)):
            await self.session.execute(
                update(table_of(Contact))
                .where(ids_in(Contact.id, part))
                .values({**values, "updated_at": now, "version": Contact.version + 1})
            )

    async def set_custom(
        self,
        contact_ids: Sequence[int],
        patch: Mapping[str, Any],
        clear: Sequence[str],
        *,
        now: datetime,
    ) -> None:
        expression: Any = Contact.fields
        if patch:
            expression = merged(expression, dict(patch))
        for alias in clear:
            expression = without_key(expression, alias)
        for part in _chunks(list(contact_ids)):
            await self.session.execute(
                update(table_of(Contact))
                .where(ids_in(Contact.id, part))
                .values(fields=expression, updated_at=now, version=Contact.version + 1)
            )

    async def set_last_active(self, contact_ids: Sequence[int], *, now: datetime) -> None:
        """Last active now, written at most once a minute per contact (a busy contact would
        otherwise rewrite its row on every hit)."""
        recent = now - timedelta(minutes=1)
        for part in _chunks(list(contact_ids)):
            await self.session.execute(
                update(table_of(Contact))
                .where(
                    ids_in(Contact.id, part),
                    or_(Contact.last_active_at.is_(None), Contact.last_active_at < recent),
                )
                .values(last_active_at=now)
            )

    async def delete(self, contact_ids: Sequence[int]) -> None:
        for part in _chunks(list(contact_ids)):
            await delete_contact_rows(self.session, part)
            await self.session.execute(delete(Contact).where(ids_in(Contact.id, part)))

    async def values(self, contact_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        found: dict[int, dict[str, Any]] = {}
        columns = [c for c in Contact.__table__.columns if c.key not in ("fields", "version")]
        for part in _chunks(list(contact_ids)):
            rows = await self.session.execute(
                select(*columns, Contact.fields).where(ids_in(Contact.id, part))
            )
            for row in rows.mappings().all():
                data = {c.key: row[c.key] for c in columns}
                data.update(row["fields"] or {})
                found[int(row["id"])] = data
        return found
