"""Every query of the tracking domain: per-send tracking rows, links, per-email aggregates,
the hit log, categories and opt-outs. Counters only ever move by increments in one statement
per batch, so two processes writing hits at once never lose one."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, delete, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter

from trellis.db.base import table_of
from trellis.db.bulk import insert_rows
from trellis.db.dialect import ids_in, insert_ignoring_conflicts
from trellis.db.models import (
    Contact,
    ContactCategoryOptOut,
    DoNotContact,
    Email,
    EmailCategory,
    EmailLink,
    EmailSend,
    EmailSendLink,
    EmailSendTracking,
    EmailStats,
    TrackingHit,
)

CHUNK = 2000
STAT_COLUMNS = (
    "opens",
    "unique_opens",
    "clicks",
    "unique_clicks",
    "unsubscribes",
    "delivered",
    "bounces",
    "hard_bounces",
    "complaints",
)


def _chunks(items: Sequence[Any], size: int = CHUNK) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def url_key(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class SendInfo:
    id: int
    email_id: int
    contact_id: int | None
    recipient: str
    to_address: str
    status: str


class TrackingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- sends ------------------------------------------------------------------------------

    async def sends(self, send_ids: Sequence[int]) -> dict[int, SendInfo]:
        found: dict[int, SendInfo] = {}
        for part in _chunks(sorted(set(send_ids))):
            rows = await self.session.execute(
                select(
                    EmailSend.id,
                    EmailSend.email_id,
                    EmailSend.contact_id,
                    EmailSend.recipient,
                    EmailSend.to_address,
                    EmailSend.status,
                ).where(ids_in(EmailSend.id, part))
            )
            found.update({r[0]: SendInfo(*r) for r in rows.all()})
        return found

    async def sends_by_message_ids(self, message_ids: Sequence[str]) -> dict[str, SendInfo]:
        found: dict[str, SendInfo] = {}
        for part in _chunks(sorted(set(message_ids))):
            rows = await self.session.execute(
                select(
                    EmailSend.message_id,
                    EmailSend.id,
                    EmailSend.email_id,
                    EmailSend.contact_id,
                    EmailSend.recipient,
                    EmailSend.to_address,
                    EmailSend.status,
                ).where(EmailSend.message_id.in_(list(part)))
            )
            for row in rows.all():
                found[row[0]] = SendInfo(*row[1:])
        return found

    async def latest_sends_to(self, addresses: Sequence[str]) -> dict[str, SendInfo]:
        """The last message to each address (a provider event naming only the recipient)."""
        found: dict[str, SendInfo] = {}
        for part in _chunks(sorted(set(addresses))):
            rows = await self.session.execute(
                select(
                    EmailSend.to_address,
                    EmailSend.id,
                    EmailSend.email_id,
                    EmailSend.contact_id,
                    EmailSend.recipient,
                    EmailSend.to_address,
                    EmailSend.status,
                )
                .where(EmailSend.to_address.in_(list(part)), EmailSend.status == "sent")
                .order_by(EmailSend.id)
            )
            for row in rows.all():
                found[row[0]] = SendInfo(*row[1:])
        return found

    # -- per-send tracking rows -------------------------------------------------------------

    async def ensure_tracking(self, sends: Sequence[SendInfo]) -> None:
        rows = [
            {
                "send_id": s.id,
                "email_id": s.email_id,
                "contact_id": s.contact_id,
                "opens": 0,
                "clicks": 0,
            }
            for s in sends
        ]
        for part in _chunks(rows):
            await self.session.execute(
                insert_ignoring_conflicts(self.session, EmailSendTracking), list(part)
            )

    async def mark_first(
        self, column: str, send_ids: Sequence[int], at: datetime, **also: Any
    ) -> set[int]:
        """Set a first-time column where it is empty; the sends for which it was (so a
        first open, unsubscribe or bounce counts once, whoever writes at the same time)."""
        marked: set[int] = set()
        table = table_of(EmailSendTracking)
        for part in _chunks(sorted(set(send_ids))):
            result = await self.session.execute(
                update(table)
                .where(ids_in(table.c.send_id, part), table.c[column].is_(None))
                .values({column: at, **also})
                .returning(table.c.send_id)
            )
            marked.update(result.scalars().all())
        return marked

    async def add_counts(self, counts: Mapping[int, tuple[int, int]], at: datetime) -> None:
        """Add (opens, clicks) to each send's counters, with the time of the last of each."""
        if not counts:
            return
        table = table_of(EmailSendTracking)
        opens: BindParameter[int] = bindparam("b_opens")
        clicks: BindParameter[int] = bindparam("b_clicks")
        await self.session.execute(
            update(table)
            .where(table.c.send_id == bindparam("b_send"))
            .values(
                opens=table.c.opens + opens,
                clicks=table.c.clicks + clicks,
                last_opened_at=case((opens > 0, at), else_=table.c.last_opened_at),
                last_clicked_at=case((clicks > 0, at), else_=table.c.last_clicked_at),
            ),
            [
                {"b_send": sid, "b_opens": o, "b_clicks": c}
                for sid, (o, c) in sorted(counts.items())
            ],
        )

    async def tracking_of(self, send_id: int) -> EmailSendTracking | None:
        return await self.session.get(EmailSendTracking, send_id)

    # -- links ------------------------------------------------------------------------------

    async def link_ids(self, pairs: Sequence[tuple[int, str]]) -> dict[tuple[int, str], int]:
        """The id of each (email, URL), creating the links not seen before."""
        unique = sorted(set(pairs))
        keyed = {(email_id, url_key(url)): (email_id, url) for email_id, url in unique}
        for part in _chunks(list(keyed.items())):
            await self.session.execute(
                insert_ignoring_conflicts(self.session, EmailLink),
                [
                    {"email_id": e, "url_key": k, "url": url, "clicks": 0, "unique_clicks": 0}
                    for (e, k), (_, url) in part
                ],
            )
        found: dict[tuple[int, str], int] = {}
        for part in _chunks(list(keyed)):
            rows = await self.session.execute(
                select(EmailLink.id, EmailLink.email_id, EmailLink.url_key).where(
                    tuple_(EmailLink.email_id, EmailLink.url_key).in_(list(part))
                )
            )
            for link_id, email_id, key in rows.all():
                found[keyed[(email_id, key)]] = link_id
        return found

    async def first_link_clicks(
        self, pairs: Sequence[tuple[int, int]], at: datetime
    ) -> set[tuple[int, int]]:
        """(send, link) pairs clicked for the first time: the rows this insert created."""
        if not pairs:
            return set()
        # Many parameter sets to one statement: compiled once, whatever the batch's size.
        result = await self.session.execute(
            insert_ignoring_conflicts(self.session, table_of(EmailSendLink)).returning(
                EmailSendLink.send_id, EmailSendLink.link_id
            ),
            [{"send_id": s, "link_id": link, "first_clicked_at": at} for s, link in sorted(pairs)],
        )
        return {(r[0], r[1]) for r in result.all()}

    async def add_link_counts(self, counts: Mapping[int, tuple[int, int]]) -> None:
        if not counts:
            return
        table = table_of(EmailLink)
        await self.session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(
                clicks=table.c.clicks + bindparam("b_clicks"),
                unique_clicks=table.c.unique_clicks + bindparam("b_unique"),
            ),
            [{"b_id": i, "b_clicks": c, "b_unique": u} for i, (c, u) in counts.items()],
        )

    async def links_of(self, email_id: int) -> list[EmailLink]:
        rows = await self.session.scalars(
            select(EmailLink)
            .where(EmailLink.email_id == email_id)
            .order_by(EmailLink.clicks.desc(), EmailLink.id)
        )
        return list(rows.all())

    # -- per-email aggregates ---------------------------------------------------------------

    async def add_stats(self, deltas: Mapping[int, Mapping[str, int]]) -> None:
        """Add to the counters of each email (a row is made for an email's first event)."""
        wanted = {e: d for e, d in deltas.items() if any(d.values())}
        if not wanted:
            return
        await self.session.execute(
            insert_ignoring_conflicts(self.session, EmailStats),
            [{"email_id": e, **dict.fromkeys(STAT_COLUMNS, 0)} for e in sorted(wanted)],
        )
        table = table_of(EmailStats)
        await self.session.execute(
            update(table)
            .where(table.c.email_id == bindparam("b_email"))
            .values({c: table.c[c] + bindparam(f"b_{c}") for c in STAT_COLUMNS}),
            [
                {"b_email": e, **{f"b_{c}": d.get(c, 0) for c in STAT_COLUMNS}}
                for e, d in sorted(wanted.items())
            ],
        )

    async def stats_of(self, email_id: int) -> EmailStats | None:
        return await self.session.get(EmailStats, email_id)

    async def send_counts(self, email_id: int) -> dict[str, int]:
        rows = await self.session.execute(
            select(EmailSend.status, func.count())
            .where(EmailSend.email_id == email_id, EmailSend.recipient == "contact")
            .group_by(EmailSend.status)
        )
        return {status: count for status, count in rows.all()}

    async def email_exists(self, email_id: int) -> bool:
        found = await self.session.scalar(select(Email.id).where(Email.id == email_id))
        return found is not None

    async def email_name(self, email_id: int) -> str | None:
        name: str | None = await self.session.scalar(select(Email.name).where(Email.id == email_id))
        return name

    # -- the hit log ------------------------------------------------------------------------

    async def add_hits(self, rows: Sequence[Mapping[str, Any]]) -> None:
        # Past SQLAlchemy's per-row parameter handling: hits come thousands a second.
        await insert_rows(self.session, table_of(TrackingHit), rows)

    async def hits_of_contact(
        self, contact_id: int, before: datetime | None, limit: int
    ) -> list[tuple[TrackingHit, str, str | None]]:
        stmt = (
            select(TrackingHit, Email.name, EmailLink.url)
            .join(Email, Email.id == TrackingHit.email_id)
            .outerjoin(EmailLink, EmailLink.id == TrackingHit.link_id)
            .where(TrackingHit.contact_id == contact_id)
            .order_by(TrackingHit.occurred_at.desc(), TrackingHit.id.desc())
            .limit(limit)
        )
        if before is not None:
            stmt = stmt.where(TrackingHit.occurred_at < before)
        rows = await self.session.execute(stmt)
        return [(h, name, url) for h, name, url in rows.all()]

    # -- Do Not Contact, categories ---------------------------------------------------------

    async def dnc_reason(self, contact_id: int, channel: str = "email") -> str | None:
        reason: str | None = await self.session.scalar(
            select(DoNotContact.reason).where(
                DoNotContact.contact_id == contact_id, DoNotContact.channel == channel
            )
        )
        return reason

    async def contacts_with_address(self, addresses: Sequence[str]) -> dict[str, list[int]]:
        found: dict[str, list[int]] = {}
        for part in _chunks(sorted(set(addresses))):
            rows = await self.session.execute(
                select(Contact.email, Contact.id).where(Contact.email.in_(list(part)))
            )
            for address, cid in rows.all():
                found.setdefault(str(address).lower(), []).append(cid)
        return found

    async def category_of(self, email_id: int) -> str | None:
        category: str | None = await self.session.scalar(
            select(EmailCategory.category).where(EmailCategory.email_id == email_id)
        )
        return category

    async def set_category(self, email_id: int, category: str | None) -> None:
        await self.session.execute(delete(EmailCategory).where(EmailCategory.email_id == email_id))
        if category is not None:
            self.session.add(EmailCategory(email_id=email_id, category=category))
            await self.session.flush()

    async def categories(self) -> list[str]:
        rows = await self.session.scalars(
            select(EmailCategory.category).distinct().order_by(EmailCategory.category)
        )
        return list(rows.all())

    async def opted_out(self, contact_id: int) -> set[str]:
        rows = await self.session.scalars(
            select(ContactCategoryOptOut.category).where(
                ContactCategoryOptOut.contact_id == contact_id
            )
        )
        return set(rows.all())

    async def set_opt_outs(self, contact_id: int, categories: set[str], now: datetime) -> None:
        await self.session.execute(
            delete(ContactCategoryOptOut).where(ContactCategoryOptOut.contact_id == contact_id)
        )
        if categories:
            await self.session.execute(
                table_of(ContactCategoryOptOut).insert(),
                [{"contact_id": contact_id, "category": c, "created_at": now} for c in categories],
            )

    async def move_contact(self, *, loser_id: int, winner_id: int, now: datetime) -> None:
        """Give the winner of a merge the loser's opens, clicks and hits, and the loser's
        category opt-outs (a "no" given by either person stands)."""
        for model in (EmailSendTracking, TrackingHit):
            await self.session.execute(
                update(table_of(model))
                .where(model.contact_id == loser_id)
                .values(contact_id=winner_id)
            )
        categories = (
            await self.session.scalars(
                select(ContactCategoryOptOut.category).where(
                    ContactCategoryOptOut.contact_id == loser_id
                )
            )
        ).all()
        if categories:
            await self.session.execute(
                insert_ignoring_conflicts(self.session, ContactCategoryOptOut),
                [{"contact_id": winner_id, "category": c, "created_at": now} for c in categories],
            )
