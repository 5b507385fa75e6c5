"""Every query of the forms domain: forms, their submissions and the figures about them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update

from trellis.db.base import table_of
from trellis.db.bulk import allocate_ids
from trellis.db.models import Contact, Form, FormSubmission
from trellis.db.pagination import Page, PageRequest, order_by_sort, paginate
from trellis.kit.repository import EntityRepository

EXPORT_CHUNK = 1000


def _contact_name() -> Any:
    return func.trim(
        func.coalesce(Contact.first_name, "") + " " + func.coalesce(Contact.last_name, "")
    )


class FormRepository(EntityRepository[Form]):
    model = Form
    entity_type = "form"
    search_columns = ("name", "alias")
    sort_columns = ("name", "alias", "created_at", "updated_at")

    # -- forms ------------------------------------------------------------------------------

    async def by_alias(self, alias: str) -> Form | None:
        return await self.session.scalar(select(Form).where(Form.alias == alias))

    async def alias_taken(self, alias: str, *, exclude_id: int | None = None) -> bool:
        stmt = select(Form.id).where(Form.alias == alias)
        if exclude_id is not None:
            stmt = stmt.where(Form.id != exclude_id)
        return (await self.session.scalar(stmt.limit(1))) is not None

    async def aliases_like(self, prefix: str) -> set[str]:
        rows = await self.session.scalars(select(Form.alias).where(Form.alias.like(f"{prefix}%")))
        return set(rows.all())

    async def stats(self, form_ids: Sequence[int]) -> dict[int, tuple[int, datetime | None]]:
        """Submissions per form and the time of the last one (one grouped index scan)."""
        if not form_ids:
            return {}
        rows = await self.session.execute(
            select(
                FormSubmission.form_id,
                func.count(FormSubmission.id),
                func.max(FormSubmission.created_at),
            )
            .where(FormSubmission.form_id.in_(list(form_ids)))
            .group_by(FormSubmission.form_id)
        )
        return {form_id: (int(count), last) for form_id, count, last in rows.all()}

    # -- submissions --------------------------------------------------------------------------

    async def insert_submissions(self, rows: Sequence[dict[str, Any]]) -> list[int]:
        if not rows:
            return []
        table = table_of(FormSubmission)
        # Ids first, then one executemany: an INSERT ... RETURNING that must keep the rows'
        # order is sent one row at a time on SQLite.
        ids = await allocate_ids(self.session, table, len(rows))
        await self.session.execute(
            insert(table), [{**row, "id": row_id} for row, row_id in zip(rows, ids, strict=True)]
        )
        return ids

    async def submission(self, submission_id: int) -> FormSubmission | None:
        return await self.session.get(FormSubmission, submission_id)

    async def submissions_page(
        self, *, page: PageRequest, form_id: int | None = None, contact_id: int | None = None
    ) -> Page[Any]:
        stmt = (
            select(FormSubmission, _contact_name(), Contact.email, Form.name)
            .join(Form, Form.id == FormSubmission.form_id)
            .outerjoin(Contact, Contact.id == FormSubmission.contact_id)
        )
        if form_id is not None:
            stmt = stmt.where(FormSubmission.form_id == form_id)
        if contact_id is not None:
            stmt = stmt.where(FormSubmission.contact_id == contact_id)
        order = order_by_sort(
            page.sort,
            allowed={"created_at": FormSubmission.id, "id": FormSubmission.id},
            default="-id",
            tiebreaker=FormSubmission.id,
        )
        return await paginate(self.session, stmt, page=page, order_by=order, scalars=False)

    async def stream_submissions(self, form_id: int) -> AsyncIterator[list[Any]]:
        """Every submission of a form, newest first, a chunk at a time (keyset pagination)."""
        before: int | None = None
        while True:
            stmt = (
                select(FormSubmission, _contact_name(), Contact.email)
                .outerjoin(Contact, Contact.id == FormSubmission.contact_id)
                .where(FormSubmission.form_id == form_id)
            )
            if before is not None:
                stmt = stmt.where(FormSubmission.id < before)
            rows = list(
                (
                    await self.session.execute(
                        stmt.order_by(FormSubmission.id.desc()).limit(EXPORT_CHUNK)
                    )
                ).all()
            )
            if not rows:
                return
            yield rows
            before = rows[-1][0].id

    async def values_by_contact(
        self, form_id: int, contact_ids: Sequence[int]
    ) -> dict[int, list[dict[str, Any]]]:
        if not contact_ids:
            return {}
        rows = await self.session.execute(
            select(FormSubmission.contact_id, FormSubmission.values).where(
                FormSubmission.form_id == form_id,
                FormSubmission.contact_id.in_(list(contact_ids)),
            )
        )
        out: dict[int, list[dict[str, Any]]] = {}
        for contact_id, values in rows.all():
            out.setdefault(contact_id, []).append(values)
        return out

    async def move_submissions(self, winner_id: int, loser_id: int) -> None:
        await self.session.execute(
            update(FormSubmission)
            .where(FormSubmission.contact_id == loser_id)
            .values(contact_id=winner_id)
        )

    async def contact_timeline(
        self, contact_id: int, before: datetime | None, limit: int
    ) -> list[Any]:
        stmt = (
            select(FormSubmission.id, FormSubmission.created_at, Form.id, Form.name)
            .join(Form, Form.id == FormSubmission.form_id)
            .where(FormSubmission.contact_id == contact_id)
        )
        if before is not None:
            stmt = stmt.where(FormSubmission.created_at < before)
        rows = await self.session.execute(
            stmt.order_by(FormSubmission.created_at.desc()).limit(limit)
        )
        return list(rows.all())
