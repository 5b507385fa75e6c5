"""Every query of website tracking: visitors, page hits, identification and back-fill."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from trellis.db.base import table_of
from trellis.db.bulk import insert_rows
from trellis.db.dialect import ids_in, in_values, insert_updating_on_conflict
from trellis.db.models import Contact, EmailSend, FormSubmission, PageHit, WebVisitor
from trellis.db.pagination import Page, PageRequest, order_by_sort, paginate

CHUNK = 2000


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()


def _chunks(items: Sequence[Any], size: int = CHUNK) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


class WebRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert_visitors(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """New visitors are created; known ones get their last visit and device updated.
        Rows in id order, so that two writers lock them in the same order."""
        ordered = sorted(rows, key=lambda r: str(r["id"]))
        for part in _chunks(ordered):
            statement = insert_updating_on_conflict(
                self.session, WebVisitor, keys=["id"], update=["last_seen_at", "device"]
            )
            await self.session.execute(statement, [dict(r) for r in part])

    async def contacts_of_visitors(self, visitor_ids: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for part in _chunks(sorted(set(visitor_ids))):
            rows = await self.session.execute(
                select(WebVisitor.id, WebVisitor.contact_id).where(
                    in_values(WebVisitor.id, list(part)), WebVisitor.contact_id.is_not(None)
                )
            )
            found.update({r[0]: int(r[1]) for r in rows.all() if r[1] is not None})
        return found

    async def contacts_of_sends(self, send_ids: Sequence[int]) -> dict[int, int]:
        rows = await self.session.execute(
            select(EmailSend.id, EmailSend.contact_id).where(
                ids_in(EmailSend.id, sorted(set(send_ids))),
                EmailSend.contact_id.is_not(None),
                EmailSend.recipient == "contact",
            )
        )
        return {r[0]: int(r[1]) for r in rows.all() if r[1] is not None}

    async def contacts_of_submissions(self, submission_ids: Sequence[int]) -> dict[int, int]:
        rows = await self.session.execute(
            select(FormSubmission.id, FormSubmission.contact_id).where(
                ids_in(FormSubmission.id, sorted(set(submission_ids))),
                FormSubmission.contact_id.is_not(None),
            )
        )
        return {r[0]: int(r[1]) for r in rows.all() if r[1] is not None}

    async def existing_contacts(self, contact_ids: Sequence[int]) -> set[int]:
        rows = await self.session.scalars(
            select(Contact.id).where(ids_in(Contact.id, sorted(set(contact_ids))))
        )
        return set(rows.all())

    async def link_visitors(self, pairs: Mapping[str, int], now: datetime) -> None:
        """Each visitor becomes its contact (creating the visitor when it is new), and its
        earlier anonymous hits are back-filled: one statement of each kind per batch."""
        if not pairs:
            return
        ordered = sorted(pairs.items())
        insert = insert_updating_on_conflict(
            self.session, WebVisitor, keys=["id"], update=["contact_id", "identified_at"]
        )
        await self.session.execute(
            insert,
            [
                {
                    "id": visitor,
                    "contact_id": contact,
                    "device": "desktop",
                    "first_seen_at": now,
                    "last_seen_at": now,
                    "identified_at": now,
                }
                for visitor, contact in ordered
            ],
        )
        hits = table_of(PageHit)
        await self.session.execute(
            update(hits)
            .where(and_(hits.c.visitor_id == bindparam("v"), hits.c.contact_id.is_(None)))
            .values(contact_id=bindparam("c")),
            [{"v": visitor, "c": contact} for visitor, contact in ordered],
        )

    async def add_hits(self, rows: Sequence[Mapping[str, Any]]) -> None:
        # Past SQLAlchemy's per-row parameter handling: hits come thousands a second.
        await insert_rows(self.session, table_of(PageHit), rows)

    async def hits_page(
        self, *, page: PageRequest, contact_id: int | None = None, url: str | None = None
    ) -> Page[Any]:
        stmt = select(PageHit)
        if contact_id is not None:
            stmt = stmt.where(PageHit.contact_id == contact_id)
        if url is not None:
            stmt = stmt.where(PageHit.url_hash == url_hash(url))
        order = order_by_sort(
            page.sort,
            allowed={"created_at": PageHit.created_at, "id": PageHit.id},
            default="-created_at",
            tiebreaker=PageHit.id,
        )
        return await paginate(self.session, stmt, page=page, order_by=order)

    async def contact_timeline(
        self, contact_id: int, before: datetime | None, limit: int
    ) -> list[PageHit]:
        stmt = (
            select(PageHit)
            .where(PageHit.contact_id == contact_id)
            .order_by(PageHit.created_at.desc(), PageHit.id.desc())
            .limit(limit)
        )
        if before is not None:
            stmt = stmt.where(PageHit.created_at < before)
        return list((await self.session.scalars(stmt)).all())

    async def move_contact(self, winner_id: int, loser_id: int) -> None:
        """A merge: the loser's visitors and page hits become the winner's."""
        for model in (WebVisitor, PageHit):
            table = table_of(model)
            await self.session.execute(
                update(table).where(table.c.contact_id == loser_id).values(contact_id=winner_id)
            )
