"""Every query of the broadcasts domain: broadcasts, their segments, their audience (taken
from segment memberships with INSERT ... SELECT) and the state of their sends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    and_,
    case,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from trellis.db.base import table_of
from trellis.db.dialect import dialect_name, insert_ignoring_conflicts
from trellis.db.models import (
    Broadcast,
    BroadcastRecipient,
    BroadcastSegment,
    Contact,
    Email,
    EmailSend,
    SegmentMember,
)
from trellis.db.pagination import Page, PageRequest, order_by_sort, paginate
from trellis.db.types import UTCDateTime

# The reason written on queued sends of a cancelled broadcast.
CANCELLED_REASON = "The broadcast was cancelled."
IN_FLIGHT = ("queued", "sending")
# Statuses of a message that went, or is on its way.
LIVE = ("queued", "sending", "sent")


@dataclass
class Counts:
    audience: int = 0
    unqueued: int = 0
    in_flight: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    cancelled: int = 0


class BroadcastRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- broadcasts -------------------------------------------------------------------------

    async def get(self, broadcast_id: int) -> Broadcast | None:
        return await self.session.get(Broadcast, broadcast_id)

    def add(self, broadcast: Broadcast) -> None:
        self.session.add(broadcast)

    async def delete(self, broadcast: Broadcast) -> None:
        await self.session.delete(broadcast)

    async def list_page(
        self,
        *,
        page: PageRequest,
        q: str | None,
        status: str | None,
        email_id: int | None,
        visible: ColumnElement[bool] | None = None,
    ) -> Page[Broadcast]:
        stmt = select(Broadcast)
        if visible is not None:
            stmt = stmt.where(visible)
        if q:
            stmt = stmt.where(func.lower(Broadcast.name).like(f"%{q.lower()}%"))
        if status is not None:
            stmt = stmt.where(Broadcast.status == status)
        if email_id is not None:
            stmt = stmt.where(Broadcast.email_id == email_id)
        order = order_by_sort(
            page.sort,
            allowed={
                "name": Broadcast.name,
                "created_at": Broadcast.created_at,
                "start_at": Broadcast.start_at,
                "status": Broadcast.status,
            },
            default="-created_at",
            tiebreaker=Broadcast.id.desc(),
        )
        return await paginate(self.session, stmt, page=page, order_by=order)

    async def email_names(self, ids: Sequence[int]) -> dict[int, tuple[str, bool]]:
        """(name, published) of the broadcasts' emails."""
        if not ids:
            return {}
        rows = await self.session.execute(
            select(Email.id, Email.name, Email.is_published).where(Email.id.in_(list(ids)))
        )
        return {i: (n, bool(p)) for i, n, p in rows.all()}

    async def segments_of(self, ids: Sequence[int]) -> dict[int, tuple[list[int], list[int]]]:
        """(included, excluded) segment ids per broadcast."""
        found: dict[int, tuple[list[int], list[int]]] = {i: ([], []) for i in ids}
        if not ids:
            return found
        rows = await self.session.execute(
            select(
                BroadcastSegment.broadcast_id, BroadcastSegment.segment_id, BroadcastSegment.mode
            )
            .where(BroadcastSegment.broadcast_id.in_(list(ids)))
            .order_by(BroadcastSegment.segment_id)
        )
        for broadcast_id, segment_id, mode in rows.all():
            found[broadcast_id][0 if mode == "include" else 1].append(segment_id)
        return found

    async def set_segments(
        self, broadcast_id: int, include: Sequence[int], exclude: Sequence[int]
    ) -> None:
        await self.session.execute(
            delete(table_of(BroadcastSegment)).where(BroadcastSegment.broadcast_id == broadcast_id)
        )
        rows = [
            {"broadcast_id": broadcast_id, "segment_id": s, "mode": "include"} for s in include
        ] + [{"broadcast_id": broadcast_id, "segment_id": s, "mode": "exclude"} for s in exclude]
        if rows:
            await self.session.execute(table_of(BroadcastSegment).insert(), rows)

    # -- claiming due work ------------------------------------------------------------------

    async def due_ids(self, now: datetime) -> list[int]:
        rows = await self.session.scalars(
            select(Broadcast.id)
            .where(
                or_(
                    and_(Broadcast.status == "scheduled", Broadcast.start_at <= now),
                    Broadcast.status == "sending",
                )
            )
            .order_by(Broadcast.start_at, Broadcast.id)
        )
        return list(rows.all())

    async def lock(self, broadcast_id: int, *, wait: bool) -> Broadcast | None:
        """The broadcast, row-locked until the transaction ends (PostgreSQL; SQLite has one
        writer at a time). ``wait=False``: None when another process holds it."""
        stmt = (
            select(Broadcast)
            .where(Broadcast.id == broadcast_id)
            .execution_options(populate_existing=True)
        )
        if dialect_name(self.session) == "postgresql":
            stmt = stmt.with_for_update(skip_locked=not wait)
        return (await self.session.scalars(stmt)).first()

    # -- audience ---------------------------------------------------------------------------

    def _audience(
        self, include: Sequence[int], exclude: Sequence[int], cutoff: datetime | None
    ) -> Any:
        """The contact ids of the audience: members of an included segment (who joined by
        ``cutoff``), and of no excluded one."""
        member = aliased(SegmentMember)
        conditions: list[Any] = [
            SegmentMember.segment_id.in_(list(include)),
            SegmentMember.manually_removed.is_(False),
        ]
        if cutoff is not None:
            conditions.append(SegmentMember.added_at <= cutoff)
        if exclude:
            conditions.append(
                ~exists(
                    select(member.contact_id).where(
                        member.contact_id == SegmentMember.contact_id,
                        member.segment_id.in_(list(exclude)),
                        member.manually_removed.is_(False),
                    )
                )
            )
        return conditions

    async def add_recipients(
        self,
        broadcast_id: int,
        include: Sequence[int],
        exclude: Sequence[int],
        *,
        cutoff: datetime,
        now: datetime,
        contacts: ColumnElement[bool] | None = None,
    ) -> int:
        """Add the audience's new contacts (among ``contacts`` when given) as recipients in one
        statement; returns how many."""
        if not include:
            return 0
        known = exists(
            select(BroadcastRecipient.contact_id).where(
                BroadcastRecipient.broadcast_id == broadcast_id,
                BroadcastRecipient.contact_id == SegmentMember.contact_id,
            )
        )
        source = (
            select(
                literal(broadcast_id, BigInteger()),
                SegmentMember.contact_id,
                literal(now, UTCDateTime()),
            )
            .where(*self._audience(include, exclude, cutoff), ~known)
            .distinct()
        )
        if contacts is not None:
            source = source.where(SegmentMember.contact_id.in_(select(Contact.id).where(contacts)))
        statement = insert_ignoring_conflicts(self.session, BroadcastRecipient).from_select(
            ["broadcast_id", "contact_id", "added_at"], source
        )
        result = await self.session.execute(statement)
        return int(getattr(result, "rowcount", 0) or 0)

    async def estimate(self, include: Sequence[int], exclude: Sequence[int]) -> int:
        if not include:
            return 0
        inner = (
            select(SegmentMember.contact_id)
            .where(*self._audience(include, exclude, None))
            .distinct()
            .subquery()
        )
        return int(await self.session.scalar(select(func.count()).select_from(inner)) or 0)

    async def unqueued(self, broadcast_id: int, *, after: int, limit: int) -> list[int]:
        """The next recipients not queued yet, in contact id order."""
        rows = await self.session.scalars(
            select(BroadcastRecipient.contact_id)
            .where(
                BroadcastRecipient.broadcast_id == broadcast_id,
                BroadcastRecipient.contact_id > after,
                BroadcastRecipient.send_id.is_(None),
                BroadcastRecipient.skip_reason.is_(None),
            )
            .order_by(BroadcastRecipient.contact_id)
            .limit(limit)
        )
        return list(rows.all())

    async def sent_elsewhere(self, email_id: int, broadcast_id: int) -> bool:
        """Whether anything but this broadcast queued or sent the email to a contact."""
        found = await self.session.scalar(
            select(EmailSend.id)
            .where(
                EmailSend.email_id == email_id,
                or_(EmailSend.broadcast_id.is_(None), EmailSend.broadcast_id != broadcast_id),
                EmailSend.recipient == "contact",
                EmailSend.status.in_(LIVE),
            )
            .limit(1)
        )
        return found is not None

    async def skip_already_received(
        self, broadcast_id: int, email_id: int, *, first: int, last: int, reason: str
    ) -> set[int]:
        """Recipients between contact ids ``first`` and ``last``, not queued yet, who already
        received the email (queued, sending or sent by anything): skipped with ``reason``, in
        one statement. Returns their contact ids."""
        received = exists(
            select(EmailSend.id).where(
                EmailSend.email_id == email_id,
                EmailSend.contact_id == BroadcastRecipient.contact_id,
                EmailSend.recipient == "contact",
                EmailSend.status.in_(LIVE),
            )
        )
        result = await self.session.execute(
            update(table_of(BroadcastRecipient))
            .where(
                BroadcastRecipient.broadcast_id == broadcast_id,
                BroadcastRecipient.contact_id >= first,
                BroadcastRecipient.contact_id <= last,
                BroadcastRecipient.send_id.is_(None),
                BroadcastRecipient.skip_reason.is_(None),
                received,
            )
            .values(skip_reason=reason)
            .returning(BroadcastRecipient.contact_id)
        )
        return {int(row[0]) for row in result.all()}

    async def link_sends(self, broadcast_id: int, email_id: int, *, first: int, last: int) -> int:
        """Point the recipients between contact ids ``first`` and ``last`` (a batch just
        queued) at their sends: one statement, by the recipients' primary key and the sends'
        (email, contact) index."""
        send = (
            select(func.max(EmailSend.id))
            .where(
                EmailSend.email_id == email_id,
                EmailSend.contact_id == BroadcastRecipient.contact_id,
                EmailSend.broadcast_id == broadcast_id,
            )
            .scalar_subquery()
        )
        result = await self.session.execute(
            update(table_of(BroadcastRecipient))
            .where(
                BroadcastRecipient.broadcast_id == broadcast_id,
                BroadcastRecipient.contact_id >= first,
                BroadcastRecipient.contact_id <= last,
                BroadcastRecipient.send_id.is_(None),
            )
            .values(send_id=send)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def cancel_sends(self, broadcast_id: int) -> int:
        """Queued sends of the broadcast that have not gone become skipped (a send already
        handed to the transport is past stopping)."""
        result = await self.session.execute(
            update(table_of(EmailSend))
            .where(EmailSend.broadcast_id == broadcast_id, EmailSend.status == "queued")
            .values(status="skipped", reason=CANCELLED_REASON, due_at=None)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    # -- counts and recipients --------------------------------------------------------------

    async def counts(self, ids: Sequence[int]) -> dict[int, Counts]:
        found = {i: Counts() for i in ids}
        if not ids:
            return found
        status = EmailSend.status

        def total(condition: Any) -> Any:
            return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

        cancelled = and_(status == "skipped", EmailSend.reason == CANCELLED_REASON)
        unqueued = and_(
            BroadcastRecipient.send_id.is_(None), BroadcastRecipient.skip_reason.is_(None)
        )
        rows = await self.session.execute(
            select(
                BroadcastRecipient.broadcast_id,
                func.count(),
                total(unqueued),
                total(status.in_(IN_FLIGHT)),
                total(status == "sent"),
                total(status == "failed"),
                total(
                    or_(
                        and_(status == "skipped", ~cancelled),
                        BroadcastRecipient.skip_reason.is_not(None),
                    )
                ),
                total(cancelled),
            )
            .select_from(BroadcastRecipient)
            .outerjoin(EmailSend, EmailSend.id == BroadcastRecipient.send_id)
            .where(BroadcastRecipient.broadcast_id.in_(list(ids)))
            .group_by(BroadcastRecipient.broadcast_id)
        )
        for row in rows.all():
            found[row[0]] = Counts(*(int(v) for v in row[1:]))
        return found

    async def recipients_page(
        self, broadcast_id: int, *, page: PageRequest, status: str | None, cancelled: bool
    ) -> Page[Any]:
        stmt = (
            select(
                BroadcastRecipient.contact_id,
                Contact.email,
                EmailSend.status,
                func.coalesce(EmailSend.reason, BroadcastRecipient.skip_reason),
                BroadcastRecipient.added_at,
                EmailSend.sent_at,
                BroadcastRecipient.skip_reason,
            )
            .select_from(BroadcastRecipient)
            .join(Contact, Contact.id == BroadcastRecipient.contact_id)
            .outerjoin(EmailSend, EmailSend.id == BroadcastRecipient.send_id)
            .where(BroadcastRecipient.broadcast_id == broadcast_id)
        )
        is_cancelled = and_(EmailSend.status == "skipped", EmailSend.reason == CANCELLED_REASON)
        unqueued = and_(
            BroadcastRecipient.send_id.is_(None), BroadcastRecipient.skip_reason.is_(None)
        )
        if status == "pending":
            # A cancelled broadcast has nothing pending: what was never queued was cancelled.
            stmt = stmt.where(unqueued if not cancelled else Contact.id.is_(None))
        elif status == "cancelled":
            stmt = stmt.where(or_(is_cancelled, unqueued) if cancelled else is_cancelled)
        elif status == "skipped":
            stmt = stmt.where(
                or_(
                    and_(EmailSend.status == "skipped", ~is_cancelled),
                    BroadcastRecipient.skip_reason.is_not(None),
                )
            )
        elif status is not None:
            stmt = stmt.where(EmailSend.status == status)
        order = order_by_sort(
            page.sort,
            allowed={
                "contact_id": BroadcastRecipient.contact_id,
                "added_at": BroadcastRecipient.added_at,
                "sent_at": EmailSend.sent_at,
            },
            default="contact_id",
            tiebreaker=BroadcastRecipient.contact_id,
        )
        return await paginate(self.session, stmt, page=page, order_by=order, scalars=False)
