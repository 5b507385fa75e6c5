"""Every query of the emails domain: emails, the send log (which is also the delivery queue),
the outbox and the per-contact frequency settings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Text, bindparam, cast, delete, func, or_, select, update
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from trellis.db.base import table_of
from trellis.db.dialect import dialect_name, ids_in, insert_ignoring_conflicts
from trellis.db.models import (
    Contact,
    ContactCategoryOptOut,
    ContactEmailSettings,
    DoNotContact,
    Email,
    EmailCategory,
    EmailSend,
    EmailVersion,
    OutboxMessage,
    User,
)
from trellis.db.pagination import Page, PageRequest, order_by_sort, paginate, text_search
from trellis.kit.repository import EntityRepository

CHUNK = 5000
# Statuses of a message that went, or is on its way.
LIVE = ("queued", "sending", "sent")


def _chunks(items: Sequence[Any], size: int = CHUNK) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


class EmailRepository(EntityRepository[Email]):
    model = Email
    entity_type = "email"
    search_columns = ("name", "subject")

    # -- emails -----------------------------------------------------------------------------

    async def version(self, email_id: int, version: int) -> EmailVersion | None:
        return await self.session.get(EmailVersion, (email_id, version))

    def keep_version(
        self, email_id: int, version: int, content: Mapping[str, Any], now: datetime
    ) -> None:
        """Keep the content an edit is replacing as the email's numbered version."""
        self.session.add(
            EmailVersion(
                email_id=email_id,
                version=version,
                subject=content["subject"],
                preheader=content["preheader"],
                body_format=content["body_format"],
                body=content["body"],
                text_body=content["text_body"],
                language=content["language"],
                utm=dict(content["utm"] or {}),
                replaced_at=now,
            )
        )

    async def by_ids(self, ids: Sequence[int]) -> dict[int, Email]:
        if not ids:
            return {}
        rows = await self.session.scalars(select(Email).where(Email.id.in_(list(ids))))
        return {e.id: e for e in rows.all()}

    # -- recipients ---------------------------------------------------------------------------

    async def addresses(self, contact_ids: Sequence[int]) -> dict[int, str | None]:
        found: dict[int, str | None] = {}
        for part in _chunks(list(contact_ids)):
            rows = await self.session.execute(
                select(Contact.id, Contact.email).where(ids_in(Contact.id, part))
            )
            found.update({cid: email for cid, email in rows.all()})
        return found

    async def on_dnc(self, contact_ids: Sequence[int]) -> dict[int, str]:
        """Contacts on the email channel's Do Not Contact list, with the reason."""
        found: dict[int, str] = {}
        for part in _chunks(list(contact_ids)):
            rows = await self.session.execute(
                select(DoNotContact.contact_id, DoNotContact.reason).where(
                    DoNotContact.channel == "email", ids_in(DoNotContact.contact_id, part)
                )
            )
            found.update({cid: reason for cid, reason in rows.all()})
        return found

    async def opted_out_of_category(self, email_id: int, contact_ids: Sequence[int]) -> set[int]:
        """Contacts who opted out of the email's category in the preference centre."""
        found: set[int] = set()
        for part in _chunks(sorted(set(contact_ids))):
            rows = await self.session.scalars(
                select(ContactCategoryOptOut.contact_id)
                .join(EmailCategory, EmailCategory.category == ContactCategoryOptOut.category)
                .where(
                    EmailCategory.email_id == email_id,
                    ids_in(ContactCategoryOptOut.contact_id, part),
                )
            )
            found.update(rows.all())
        return found

    async def already_received(self, email_id: int, contact_ids: Sequence[int]) -> set[int]:
        found: set[int] = set()
        for part in _chunks(list(contact_ids)):
            rows = await self.session.scalars(
                select(EmailSend.contact_id)
                .where(
                    EmailSend.email_id == email_id,
                    ids_in(EmailSend.contact_id, part),
                    EmailSend.recipient == "contact",
                    EmailSend.status.in_(LIVE),
                )
                .distinct()
            )
            found.update(c for c in rows.all() if c is not None)
        return found

    async def recent_marketing(
        self, contact_ids: Sequence[int], since: datetime, *, statuses: Sequence[str] = LIVE
    ) -> dict[int, list[datetime]]:
        """When each contact's marketing emails since ``since`` went (or were queued)."""
        found: dict[int, list[datetime]] = {}
        when = func.coalesce(EmailSend.sent_at, EmailSend.created_at)
        for part in _chunks(list(contact_ids)):
            rows = await self.session.execute(
                select(EmailSend.contact_id, when).where(
                    ids_in(EmailSend.contact_id, part),
                    EmailSend.kind == "marketing",
                    EmailSend.recipient == "contact",
                    EmailSend.status.in_(list(statuses)),
                    EmailSend.created_at >= since,
                )
            )
            for cid, at in rows.all():
                if cid is not None:
                    found.setdefault(cid, []).append(at)
        return found

    async def frequency_overrides(
        self, contact_ids: Sequence[int]
    ) -> dict[int, tuple[int | None, int | None]]:
        found: dict[int, tuple[int | None, int | None]] = {}
        for part in _chunks(list(contact_ids)):
            rows = await self.session.execute(
                select(
                    ContactEmailSettings.contact_id,
                    ContactEmailSettings.frequency_limit,
                    ContactEmailSettings.frequency_days,
                ).where(ids_in(ContactEmailSettings.contact_id, part))
            )
            found.update({cid: (limit, days) for cid, limit, days in rows.all()})
        return found

    async def any_frequency_override(self) -> bool:
        return (
            await self.session.scalar(
                select(ContactEmailSettings.contact_id)
                .where(ContactEmailSettings.frequency_limit.is_not(None))
                .limit(1)
            )
        ) is not None

    async def contact_settings(self, contact_id: int) -> ContactEmailSettings | None:
        return await self.session.get(ContactEmailSettings, contact_id)

    def add_contact_settings(self, settings: ContactEmailSettings) -> None:
        self.session.add(settings)

    async def contact_exists(self, contact_id: int) -> bool:
        return (
            await self.session.scalar(select(Contact.id).where(Contact.id == contact_id))
        ) is not None

    async def owners_of(self, contact_ids: Sequence[int]) -> dict[int, int]:
        found: dict[int, int] = {}
        for part in _chunks(list(contact_ids)):
            rows = await self.session.execute(
                select(Contact.id, Contact.owner_id).where(
                    ids_in(Contact.id, part), Contact.owner_id.is_not(None)
                )
            )
            found.update({cid: owner for cid, owner in rows.all() if owner is not None})
        return found

    async def users(self, user_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """Owner fields for ``{ownerfield=...}``: a user's name, email and signature."""
        if not user_ids:
            return {}
        rows = await self.session.execute(
            select(User.id, User.email, User.name).where(User.id.in_(list(user_ids)))
        )
        found: dict[int, dict[str, Any]] = {}
        for uid, email, name in rows.all():
            first, _, last = (name or "").partition(" ")
            found[uid] = {
                "id": uid,
                "email": email,
                "name": name,
                "first_name": first,
                "last_name": last,
            }
        return found

    # -- the send log -------------------------------------------------------------------------

    async def insert_sends(
        self, rows: Sequence[Mapping[str, Any]]
    ) -> list[tuple[int, int | None, str]]:
        """Insert sends, skipping a campaign step's existing ones; returns (id, contact, status)
        of the rows inserted."""
        inserted: list[tuple[int, int | None, str]] = []
        for part in _chunks(list(rows), 1000):
            statement = insert_ignoring_conflicts(self.session, table_of(EmailSend)).returning(
                EmailSend.id, EmailSend.contact_id, EmailSend.status
            )
            result = await self.session.execute(statement, [dict(r) for r in part])
            inserted.extend((r[0], r[1], r[2]) for r in result.all())
        return inserted

    async def send(self, send_id: int) -> EmailSend | None:
        return await self.session.get(EmailSend, send_id)

    async def sends_page(
        self,
        *,
        page: PageRequest,
        email_id: int | None = None,
        contact_id: int | None = None,
        status: str | None = None,
        emails: ColumnElement[bool] | None = None,
        contacts: ColumnElement[bool] | None = None,
    ) -> Page[EmailSend]:
        """Sends, newest first; ``emails`` and ``contacts`` limit them to the sends of those
        emails and to those contacts."""
        stmt = select(EmailSend)
        if emails is not None:
            stmt = stmt.where(EmailSend.email_id.in_(select(Email.id).where(emails)))
        if contacts is not None:
            stmt = stmt.where(EmailSend.contact_id.in_(select(Contact.id).where(contacts)))
        if email_id is not None:
            stmt = stmt.where(EmailSend.email_id == email_id)
        if contact_id is not None:
            stmt = stmt.where(EmailSend.contact_id == contact_id)
        if status is not None:
            stmt = stmt.where(EmailSend.status == status)
        order = order_by_sort(
            page.sort,
            allowed={"created_at": EmailSend.created_at, "sent_at": EmailSend.sent_at},
            default="-created_at",
            tiebreaker=EmailSend.id.desc(),
        )
        return await paginate(self.session, stmt, page=page, order_by=order)

    async def sends_of_contact_since(
        self, contact_id: int, before: datetime | None, limit: int
    ) -> list[tuple[EmailSend, str]]:
        stmt = (
            select(EmailSend, Email.name)
            .join(Email, Email.id == EmailSend.email_id)
            .where(EmailSend.contact_id == contact_id, EmailSend.recipient == "contact")
            .order_by(EmailSend.created_at.desc(), EmailSend.id.desc())
            .limit(limit)
        )
        if before is not None:
            stmt = stmt.where(EmailSend.created_at < before)
        rows = await self.session.execute(stmt)
        return [(s, n) for s, n in rows.all()]

    async def claim_due(
        self, *, now: datetime, limit: int, lease_until: datetime, token: str
    ) -> list[EmailSend]:
        """Queued sends whose time came, and sends whose lease ran out (the process holding
        them died or lost the database for longer than the lease): they become ``sending``,
        held by ``token`` until ``lease_until``, with one more attempt counted."""
        due = or_(
            EmailSend.status == "queued",
            # A lease end is the row's due time while it is sending.
            EmailSend.status == "sending",
        )
        pick = (
            select(EmailSend.id)
            .where(due, EmailSend.due_at <= now)
            .order_by(EmailSend.due_at, EmailSend.id)
            .limit(limit)
        )
        if dialect_name(self.session) == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        ids = list((await self.session.scalars(pick)).all())
        if not ids:
            return []
        await self.session.execute(
            update(table_of(EmailSend))
            .where(ids_in(EmailSend.id, ids), due, EmailSend.due_at <= now)
            .values(
                status="sending",
                due_at=lease_until,
                claim_token=token,
                attempts=EmailSend.attempts + 1,
            )
        )
        rows = await self.session.scalars(
            select(EmailSend)
            .where(ids_in(EmailSend.id, ids), EmailSend.claim_token == token)
            .order_by(EmailSend.id)
            .execution_options(populate_existing=True)
        )
        return list(rows.all())

    async def renew(self, token: str, send_ids: Sequence[int], lease_until: datetime) -> set[int]:
        """Move the lease of the sends ``token`` still holds; returns those it holds."""
        kept: set[int] = set()
        for part in _chunks(list(send_ids)):
            result = await self.session.execute(
                update(table_of(EmailSend))
                .where(
                    ids_in(EmailSend.id, part),
                    EmailSend.claim_token == token,
                    EmailSend.status == "sending",
                )
                .values(due_at=lease_until)
                .returning(EmailSend.id)
            )
            kept.update(result.scalars().all())
        return kept

    async def holding(self, claims: Mapping[str, Sequence[int]]) -> set[int]:
        """Of the sends each token claimed, those it still holds, locked until the commit (the
        transaction recording their outcomes)."""
        held: set[int] = set()
        for token, send_ids in claims.items():
            for part in _chunks(list(send_ids)):
                stmt = select(EmailSend.id).where(
                    ids_in(EmailSend.id, part),
                    EmailSend.claim_token == token,
                    EmailSend.status == "sending",
                )
                if dialect_name(self.session) == "postgresql":
                    stmt = stmt.with_for_update()
                held.update((await self.session.scalars(stmt)).all())
        return held

    async def mark_sent(self, sent: Mapping[int, tuple[int, datetime]]) -> None:
        """Sends the server accepted, each with the email version it rendered and when; the
        caller checked that it holds them (:meth:`holding`)."""
        statement = (
            update(table_of(EmailSend))
            .where(EmailSend.id == bindparam("_id"))
            .values(
                status="sent",
                sent_at=bindparam("_at"),
                due_at=None,
                reason=None,
                claim_token=None,
                email_version=bindparam("_version"),
            )
        )
        params = [{"_id": k, "_version": v, "_at": at} for k, (v, at) in sent.items()]
        for part in _chunks(params):
            await self.session.execute(statement, list(part))

    async def finish(self, outcomes: Mapping[int, tuple[str, str | None, datetime | None]]) -> None:
        """(status, reason, due) per send: requeued with a due time, or final; the caller
        checked that it holds them (:meth:`holding`)."""
        statement = (
            update(table_of(EmailSend))
            .where(EmailSend.id == bindparam("_id"))
            .values(
                status=bindparam("_status"),
                reason=bindparam("_reason"),
                due_at=bindparam("_due"),
                claim_token=None,
            )
        )
        params = [
            {"_id": sid, "_status": status, "_reason": reason, "_due": due}
            for sid, (status, reason, due) in outcomes.items()
        ]
        for part in _chunks(params):
            await self.session.execute(statement, list(part))

    async def pending_count(self) -> int:
        return int(
            await self.session.scalar(
                select(func.count()).where(EmailSend.status.in_(("queued", "sending")))
            )
            or 0
        )

    async def next_due(self) -> datetime | None:
        value: datetime | None = await self.session.scalar(
            select(func.min(EmailSend.due_at)).where(EmailSend.status.in_(("queued", "sending")))
        )
        return value

    # -- the outbox ---------------------------------------------------------------------------

    async def add_outbox(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Keep messages; a send already kept stays as it was (one message per send)."""
        for part in _chunks(list(rows), 500):
            await self.session.execute(
                insert_ignoring_conflicts(self.session, table_of(OutboxMessage)),
                [dict(r) for r in part],
            )

    async def outbox_page(self, *, page: PageRequest, q: str | None) -> Page[OutboxMessage]:
        stmt = select(OutboxMessage)
        if q:
            stmt = stmt.where(
                text_search(
                    q,
                    OutboxMessage.subject,
                    OutboxMessage.message_id,
                    cast(OutboxMessage.recipients, Text),
                )
            )
        order = order_by_sort(
            page.sort,
            allowed={"created_at": OutboxMessage.created_at},
            default="-created_at",
            tiebreaker=OutboxMessage.id.desc(),
        )
        return await paginate(self.session, stmt, page=page, order_by=order)

    async def outbox_message(self, message_id: int) -> OutboxMessage | None:
        return await self.session.get(OutboxMessage, message_id)

    async def clear_outbox(self) -> int:
        result = await self.session.execute(delete(OutboxMessage))
        return int(getattr(result, "rowcount", 0) or 0)

    async def move_contact(self, *, loser_id: int, winner_id: int) -> None:
        """Give the winner of a merge the loser's sends, so that "once per contact" and the
        frequency cap still know what went out; a send for a campaign step the winner already
        has stays the loser's and goes with it. The winner keeps its own email settings and
        takes the loser's if it has none."""
        winners = aliased(EmailSend)
        clash = (
            select(winners.id)
            .where(
                winners.contact_id == winner_id,
                winners.event_id == EmailSend.event_id,
                winners.rotation == EmailSend.rotation,
            )
            .exists()
        )
        await self.session.execute(
            update(table_of(EmailSend))
            .where(EmailSend.contact_id == loser_id, or_(EmailSend.event_id.is_(None), ~clash))
            .values(contact_id=winner_id)
        )
        has_settings = await self.session.scalar(
            select(ContactEmailSettings.contact_id).where(
                ContactEmailSettings.contact_id == winner_id
            )
        )
        if has_settings is None:
            await self.session.execute(
                update(table_of(ContactEmailSettings))
                .where(ContactEmailSettings.contact_id == loser_id)
                .values(contact_id=winner_id)
            )
