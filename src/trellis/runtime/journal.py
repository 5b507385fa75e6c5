"""The campaign journal: claiming, inserting and finishing steps, set-based.

Every write here is one statement per batch. Inserts skip rows that already exist, and the ids
they return are the contacts this process now owns: a duplicated job or a second worker finds
nothing left to do, so every step happens once per contact and rotation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from enum import IntEnum
from typing import Any

from sqlalchemy import bindparam, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from trellis.db.base import table_of
from trellis.db.bulk import insert_from_arrays
from trellis.db.dialect import dialect_name, ids_in, insert_ignoring_conflicts
from trellis.db.models import CampaignMember, EventLog, EventStats

CHUNK = 20000


class Status(IntEnum):
    SCHEDULED = 1
    WAITING = 2
    RUNNING = 3
    DONE = 4
    WARNED = 5
    DEAD = 6
    YES = 7
    NO = 8
    CANCELLED = 9
    SKIPPED = 10


# Which counter of campaign_event_stats a status feeds. Scheduled and waiting are gauges
# (they go down again when the step runs); the rest only grow.
STAT_COLUMN = {
    Status.SCHEDULED: "scheduled",
    Status.WAITING: "waiting",
    Status.DONE: "done",
    Status.WARNED: "warned",
    Status.SKIPPED: "warned",
    Status.DEAD: "dead",
    Status.YES: "yes",
    Status.NO: "no",
    Status.CANCELLED: "cancelled",
}
GAUGES = {Status.SCHEDULED, Status.WAITING}


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class StatDeltas:
    """Counter changes collected during a unit of work and written once at its end."""

    def __init__(self) -> None:
        self._deltas: dict[int, Counter[str]] = {}

    def add(self, event_id: int, column: str, amount: int) -> None:
        if amount:
            self._deltas.setdefault(event_id, Counter())[column] += amount

    def entered(self, event_id: int, status: Status, amount: int) -> None:
        column = STAT_COLUMN.get(status)
        if column is not None:
            self.add(event_id, column, amount)

    def left(self, event_id: int, status: Status, amount: int) -> None:
        if status in GAUGES:
            self.add(event_id, STAT_COLUMN[status], -amount)

    def failed(self, event_id: int, amount: int) -> None:
        self.add(event_id, "failed", amount)

    async def flush(self, session: AsyncSession) -> None:
        for event_id, counter in self._deltas.items():
            changes = {k: v for k, v in counter.items() if v}
            if not changes:
                continue
            await session.execute(
                update(EventStats)
                .where(EventStats.event_id == event_id)
                .values({k: getattr(EventStats, k) + v for k, v in changes.items()})
            )
        self._deltas.clear()


async def insert_steps(
    session: AsyncSession,
    *,
    campaign_id: int,
    event_id: int,
    rows: Sequence[tuple[int, int, datetime | None]],
    status: Status,
    now: datetime,
    detail: Mapping[str, Any] | None = None,
    details: Mapping[int, Mapping[str, Any]] | None = None,
) -> list[int]:
    """Insert steps (contact, rotation, due) for one event; returns the contacts inserted,
    leaving out those that already had this step in this rotation."""
    finished = status not in (Status.SCHEDULED, Status.WAITING, Status.RUNNING)
    if not details and detail is None:
        # The common case, one statement however many contacts.
        inserted: list[int] = []
        for part in chunks(list(rows)):
            inserted.extend(
                await insert_from_arrays(
                    session,
                    table_of(EventLog),
                    constants={
                        "event_id": event_id,
                        "campaign_id": campaign_id,
                        "status": int(status),
                        "attempts": 0,
                        "reached_at": now,
                        "done_at": now if finished else None,
                    },
                    arrays={
                        "contact_id": [r[0] for r in part],
                        "rotation": [r[1] for r in part],
                        "due_at": [r[2] for r in part],
                    },
                    returning="contact_id",
                )
            )
        return inserted
    inserted = []
    for part in chunks(list(rows), 1000):
        values = [
            {
                "event_id": event_id,
                "contact_id": contact_id,
                "rotation": rotation,
                "campaign_id": campaign_id,
                "status": int(status),
                "due_at": due,
                "attempts": 0,
                "reached_at": now,
                "done_at": now if finished else None,
                "detail": dict((details or {}).get(contact_id, detail or {})) or None,
            }
            for contact_id, rotation, due in part
        ]
        statement = insert_ignoring_conflicts(session, EventLog.__table__).returning(
            EventLog.contact_id
        )
        result = await session.execute(statement, values)
        inserted.extend(row[0] for row in result.all())
    return inserted


async def finish_steps(
    session: AsyncSession,
    *,
    event_id: int,
    contact_ids: Sequence[int],
    status: Status,
    now: datetime,
    detail: Mapping[str, Any] | None = None,
    details: Mapping[int, Mapping[str, Any]] | None = None,
    from_status: Status = Status.RUNNING,
    claim: str | None = None,
) -> None:
    """Finish steps of one event that are in ``from_status``; with a ``claim``, only those
    that claim still holds (a step taken over by another worker is left to it)."""
    held = [EventLog.claim == claim] if claim is not None else []
    if details:
        statement = (
            update(EventLog.__table__)  # type: ignore[arg-type]
            .where(
                EventLog.event_id == event_id,
                EventLog.contact_id == bindparam("_contact"),
                EventLog.status == int(from_status),
                *held,
            )
            .values(
                status=int(status),
                done_at=now,
                due_at=None,
                claim=None,
                detail=bindparam("_detail"),
            )
        )
        params = [
            {"_contact": cid, "_detail": dict(details.get(cid, detail or {}))}
            for cid in contact_ids
        ]
        for part in chunks(params):
            await session.execute(statement, list(part))
        return
    for part in chunks(list(contact_ids)):
        values: dict[str, Any] = {
            "status": int(status),
            "done_at": now,
            "due_at": None,
            "claim": None,
        }
        if detail is not None:
            values["detail"] = dict(detail)
        await session.execute(
            update(table_of(EventLog))
            .where(
                EventLog.event_id == event_id,
                ids_in(EventLog.contact_id, part),
                EventLog.status == int(from_status),
                *held,
            )
            .values(values)
        )


async def retry_steps(
    session: AsyncSession,
    *,
    event_id: int,
    retries: Mapping[int, tuple[datetime, str]],
) -> None:
    """Put failed steps back in the schedule with their next attempt's time and the reason."""
    statement = (
        update(EventLog.__table__)  # type: ignore[arg-type]
        .where(
            EventLog.event_id == event_id,
            EventLog.contact_id == bindparam("_contact"),
            # Not IN (...): an expanding list cannot go into an executemany.
            or_(
                EventLog.status == int(Status.RUNNING),
                EventLog.status == int(Status.SCHEDULED),
            ),
        )
        .values(
            status=int(Status.SCHEDULED),
            due_at=bindparam("_due"),
            attempts=EventLog.attempts + 1,
            detail=bindparam("_detail"),
            claim=None,
        )
    )
    params = [
        {"_contact": cid, "_due": due, "_detail": {"last_error": reason}}
        for cid, (due, reason) in retries.items()
    ]
    for part in chunks(params):
        await session.execute(statement, list(part))


async def reschedule_steps(
    session: AsyncSession, *, event_id: int, due: Mapping[int, datetime]
) -> None:
    statement = (
        update(EventLog.__table__)  # type: ignore[arg-type]
        .where(
            EventLog.event_id == event_id,
            EventLog.contact_id == bindparam("_contact"),
            EventLog.status == int(Status.RUNNING),
        )
        .values(status=int(Status.SCHEDULED), due_at=bindparam("_due"), claim=None)
    )
    params = [{"_contact": cid, "_due": at} for cid, at in due.items()]
    for part in chunks(params):
        await session.execute(statement, list(part))


async def attempts_of(
    session: AsyncSession, *, event_id: int, contact_ids: Sequence[int]
) -> dict[int, int]:
    found: dict[int, int] = {}
    for part in chunks(list(contact_ids)):
        rows = await session.execute(
            select(EventLog.contact_id, EventLog.attempts).where(
                EventLog.event_id == event_id,
                ids_in(EventLog.contact_id, part),
                EventLog.status.in_([int(Status.RUNNING), int(Status.SCHEDULED)]),
            )
        )
        found.update({cid: attempts for cid, attempts in rows.all()})
    return found


async def due_batches(
    session: AsyncSession,
    *,
    statuses: Sequence[Status],
    now: datetime,
    campaign_ids: Sequence[int] | None,
    limit: int,
) -> list[tuple[int, int, Status]]:
    """(campaign, event, status) groups that have steps due, oldest first."""
    stmt = (
        select(EventLog.campaign_id, EventLog.event_id, EventLog.status, func.min(EventLog.due_at))
        .where(EventLog.status.in_([int(s) for s in statuses]), EventLog.due_at <= now)
        .group_by(EventLog.campaign_id, EventLog.event_id, EventLog.status)
        .order_by(func.min(EventLog.due_at))
        .limit(limit)
    )
    if campaign_ids is not None:
        stmt = stmt.where(EventLog.campaign_id.in_(campaign_ids))
    rows = await session.execute(stmt)
    return [
        (campaign_id, event_id, Status(status)) for campaign_id, event_id, status, _ in rows.all()
    ]


async def due_counts(
    session: AsyncSession, *, campaign_ids: Sequence[int], now: datetime
) -> dict[int, int]:
    """Steps due (scheduled, or waiting decisions whose time ran out) per campaign."""
    rows = await session.execute(
        select(EventLog.campaign_id, func.count())
        .where(
            EventLog.status.in_([int(Status.SCHEDULED), int(Status.WAITING)]),
            EventLog.due_at <= now,
            EventLog.campaign_id.in_(list(campaign_ids)),
        )
        .group_by(EventLog.campaign_id)
    )
    return {campaign_id: int(count) for campaign_id, count in rows.all()}


async def claim_due(
    session: AsyncSession,
    *,
    event_id: int,
    status: Status,
    now: datetime,
    limit: int,
    lease_until: datetime,
    claim: str | None = None,
) -> list[tuple[int, int, datetime, int]]:
    """Claim up to ``limit`` due steps of one event: they become RUNNING with a lease, held by
    ``claim`` (worker and claim id) when given.

    On PostgreSQL rows locked by another worker are skipped (FOR UPDATE SKIP LOCKED); on
    SQLite the writer lock already serialises claimers. Returns (contact, rotation, reached_at,
    attempts) of the claimed steps.
    """
    pick = (
        select(EventLog.contact_id)
        .where(
            EventLog.event_id == event_id, EventLog.status == int(status), EventLog.due_at <= now
        )
        .order_by(EventLog.due_at, EventLog.contact_id)
        .limit(limit)
    )
    if dialect_name(session) == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    contact_ids = list((await session.scalars(pick)).all())
    if not contact_ids:
        return []
    claimed: list[tuple[int, int, datetime, int]] = []
    for part in chunks(contact_ids):
        result = await session.execute(
            update(table_of(EventLog))
            .where(
                EventLog.event_id == event_id,
                ids_in(EventLog.contact_id, part),
                EventLog.status == int(status),
            )
            .values(status=int(Status.RUNNING), due_at=lease_until, claim=claim)
            .returning(
                EventLog.contact_id, EventLog.rotation, EventLog.reached_at, EventLog.attempts
            )
        )
        claimed.extend((r[0], r[1], r[2], r[3]) for r in result.all())
    return claimed


async def expired_leases(session: AsyncSession, *, now: datetime) -> int:
    """Steps whose holder stopped renewing their lease (it died, or lost the database for a
    whole lease) go back to the schedule, to run again; their claim is dropped, so the old
    holder can no longer finish them. The scheduled counter they left when claimed is given
    back in the same transaction."""
    result = await session.execute(
        update(table_of(EventLog))
        .where(EventLog.status == int(Status.RUNNING), EventLog.due_at <= now)
        .values(status=int(Status.SCHEDULED), due_at=now, claim=None)
        .returning(EventLog.event_id)
    )
    returned = Counter(result.scalars().all())
    stats = StatDeltas()
    for event_id, count in returned.items():
        stats.entered(event_id, Status.SCHEDULED, count)
    await stats.flush(session)
    return sum(returned.values())


async def renew_leases(session: AsyncSession, *, event_id: int, claim: str, until: datetime) -> int:
    """Push the lease of the steps a claim still holds to ``until``; how many it holds."""
    result = await session.execute(
        update(table_of(EventLog))
        .where(
            EventLog.event_id == event_id,
            EventLog.status == int(Status.RUNNING),
            EventLog.claim == claim,
        )
        .values(due_at=until)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def held_steps(
    session: AsyncSession, *, event_id: int, contact_ids: Sequence[int], claim: str
) -> set[int]:
    """The contacts whose running step of this event ``claim`` still holds. On PostgreSQL the
    rows stay locked until the transaction ends, so a takeover waits for what is recorded
    here and then finds the steps finished."""
    held: set[int] = set()
    for part in chunks(list(contact_ids)):
        pick = select(EventLog.contact_id).where(
            EventLog.event_id == event_id,
            ids_in(EventLog.contact_id, part),
            EventLog.status == int(Status.RUNNING),
            EventLog.claim == claim,
        )
        if dialect_name(session) == "postgresql":
            pick = pick.with_for_update()
        held.update((await session.scalars(pick)).all())
    return held


async def mark_attempted(
    session: AsyncSession, *, event_id: int, contact_ids: Sequence[int], claim: str, now: datetime
) -> list[int]:
    """Record that the outside calls of these steps start now (the intent, committed before
    the calls); returns the contacts whose step ``claim`` still holds, the only ones to call."""
    result = await session.execute(
        update(table_of(EventLog))
        .where(
            EventLog.event_id == event_id,
            ids_in(EventLog.contact_id, list(contact_ids)),
            EventLog.status == int(Status.RUNNING),
            EventLog.claim == claim,
        )
        .values(attempted_at=now)
        .returning(EventLog.contact_id)
    )
    return list(result.scalars().all())


async def active_rotations(
    session: AsyncSession, *, campaign_id: int, contact_ids: Sequence[int]
) -> dict[int, int]:
    found: dict[int, int] = {}
    for part in chunks(list(contact_ids)):
        rows = await session.execute(
            select(CampaignMember.contact_id, CampaignMember.rotation).where(
                CampaignMember.campaign_id == campaign_id,
                ids_in(CampaignMember.contact_id, part),
                CampaignMember.status == "active",
            )
        )
        found.update({cid: rotation for cid, rotation in rows.all()})
    return found


async def cancel_open_steps(
    session: AsyncSession,
    *,
    campaign_id: int,
    contact_ids: Sequence[int],
    now: datetime,
    reason: str,
    stats: StatDeltas,
    event_ids: Sequence[int] | None = None,
) -> None:
    """Cancel scheduled and waiting steps (of some events, or all) of these contacts."""
    open_statuses = [int(Status.SCHEDULED), int(Status.WAITING)]
    for part in chunks(list(contact_ids)):
        scope = [
            EventLog.campaign_id == campaign_id,
            ids_in(EventLog.contact_id, part),
            EventLog.status.in_(open_statuses),
        ]
        if event_ids is not None:
            scope.append(EventLog.event_id.in_(event_ids))
        counts = await session.execute(
            select(EventLog.event_id, EventLog.status, func.count())
            .where(*scope)
            .group_by(EventLog.event_id, EventLog.status)
        )
        for event_id, status, count in counts.all():
            stats.left(event_id, Status(status), count)
            stats.entered(event_id, Status.CANCELLED, count)
        await session.execute(
            update(table_of(EventLog))
            .where(*scope)
            .values(
                status=int(Status.CANCELLED), done_at=now, due_at=None, detail={"reason": reason}
            )
        )


async def finished_without_next(
    session: AsyncSession, *, campaign_id: int, parent_id: int, path: str | None, event_id: int
) -> dict[int, int]:
    """Active members whose current pass went through ``parent`` (along ``path``), has nothing
    open any more, and never reached ``event_id``: the contacts a step added later picks up.
    Returns their rotations."""
    passed = {None: [Status.DONE, Status.WARNED], "yes": [Status.YES], "no": [Status.NO]}.get(
        path, [Status.YES, Status.DONE]
    )
    member = CampaignMember
    opened = (
        select(EventLog.contact_id)
        .where(
            EventLog.campaign_id == campaign_id,
            EventLog.contact_id == member.contact_id,
            EventLog.rotation == member.rotation,
            EventLog.status.in_([int(Status.SCHEDULED), int(Status.WAITING), int(Status.RUNNING)]),
        )
        .exists()
    )
    reached = (
        select(EventLog.contact_id)
        .where(
            EventLog.event_id == event_id,
            EventLog.contact_id == member.contact_id,
            EventLog.rotation == member.rotation,
        )
        .exists()
    )
    parent = EventLog.__table__.alias("parent_step")
    rows = await session.execute(
        select(member.contact_id, member.rotation)
        .join(
            parent,
            (parent.c.contact_id == member.contact_id)
            & (parent.c.rotation == member.rotation)
            & (parent.c.event_id == parent_id),
        )
        .where(
            member.campaign_id == campaign_id,
            member.status == "active",
            parent.c.status.in_([int(s) for s in passed]),
            ~opened,
            ~reached,
        )
    )
    return {cid: rotation for cid, rotation in rows.all()}


async def revive_dead(
    session: AsyncSession, *, campaign_id: int, now: datetime, stats: StatDeltas
) -> int:
    """Every dead step of a campaign goes back in the schedule, its attempts reset."""
    counts = await session.execute(
        select(EventLog.event_id, func.count())
        .where(EventLog.campaign_id == campaign_id, EventLog.status == int(Status.DEAD))
        .group_by(EventLog.event_id)
    )
    total = 0
    for event_id, count in counts.all():
        stats.add(event_id, "dead", -count)
        stats.entered(event_id, Status.SCHEDULED, count)
        total += int(count)
    await session.execute(
        update(table_of(EventLog))
        .where(EventLog.campaign_id == campaign_id, EventLog.status == int(Status.DEAD))
        .values(status=int(Status.SCHEDULED), due_at=now, attempts=0)
    )
    return total


async def take_decisions(
    session: AsyncSession,
    *,
    event_id: int,
    rotations: Mapping[int, int],
    status: Status,
    now: datetime,
) -> set[int]:
    """Resolve waiting decisions of one event for contacts (contact -> rotation) in one
    statement; returns the contacts whose decision this call took (not someone else)."""
    if not rotations:
        return set()
    pairs = [tuple_(contact_id, rotation) for contact_id, rotation in rotations.items()]
    result = await session.execute(
        update(table_of(EventLog))
        .where(
            EventLog.event_id == event_id,
            tuple_(EventLog.contact_id, EventLog.rotation).in_(pairs),
            EventLog.status == int(Status.WAITING),
        )
        .values(status=int(status), done_at=now, due_at=None)
        .returning(EventLog.contact_id)
    )
    return set(result.scalars().all())
