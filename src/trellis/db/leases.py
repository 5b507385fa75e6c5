"""Leases and claimed ranges of the campaign dispatch (ADR 0016), set-based.

A campaign has one dispatcher at a time: the holder of its unexpired ``campaign_leases`` row.
The intake of a segment's existing members is cut into ``campaign_intake_ranges`` that any
worker claims; a claim is a token with a time limit, and a range is marked done in the same
transaction that takes its members in.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from trellis.db.base import table_of
from trellis.db.dialect import insert_ignoring_conflicts
from trellis.db.models import CampaignIntakeRange, CampaignLease


async def take_campaign_leases(
    session: AsyncSession,
    campaign_ids: Sequence[int],
    *,
    holder: str,
    now: datetime,
    until: datetime,
) -> set[int]:
    """Take the lease of each campaign that is free, expired or already ``holder``'s; returns
    the campaigns ``holder`` now dispatches."""
    if not campaign_ids:
        return set()
    leases = table_of(CampaignLease)
    renewed = await session.execute(
        update(leases)
        .where(
            leases.c.campaign_id.in_(list(campaign_ids)),
            or_(leases.c.until <= now, leases.c.holder == holder),
        )
        .values(holder=holder, until=until)
        .returning(leases.c.campaign_id)
    )
    taken = set(renewed.scalars().all())
    fresh = [c for c in campaign_ids if c not in taken]
    if fresh:
        inserted = await session.execute(
            insert_ignoring_conflicts(session, leases).returning(leases.c.campaign_id),
            [{"campaign_id": c, "holder": holder, "until": until} for c in fresh],
        )
        taken.update(inserted.scalars().all())
    return taken


async def renew_campaign_leases(
    session: AsyncSession, campaign_ids: Sequence[int], *, holder: str, until: datetime
) -> int:
    leases = table_of(CampaignLease)
    result = await session.execute(
        update(leases)
        .where(leases.c.campaign_id.in_(list(campaign_ids)), leases.c.holder == holder)
        .values(until=until)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def release_campaign_leases(
    session: AsyncSession, campaign_ids: Sequence[int], *, holder: str
) -> None:
    leases = table_of(CampaignLease)
    await session.execute(
        delete(leases).where(
            leases.c.campaign_id.in_(list(campaign_ids)), leases.c.holder == holder
        )
    )


async def add_intake_ranges(
    session: AsyncSession, *, campaign_id: int, source_id: int, ranges: Sequence[tuple[int, int]]
) -> None:
    """Ranges (after contact, up to contact) of one source's intake; existing ones are kept."""
    if ranges:
        await session.execute(
            insert_ignoring_conflicts(session, CampaignIntakeRange),
            [
                {
                    "campaign_id": campaign_id,
                    "source_id": source_id,
                    "after_contact": after,
                    "upto_contact": upto,
                    "done": False,
                }
                for after, upto in ranges
            ],
        )


async def claim_intake_range(
    session: AsyncSession, *, campaign_id: int, claim: str, now: datetime, until: datetime
) -> tuple[int, int, int] | None:
    """Claim the first range nobody holds (or whose holder's time ran out): (source, after,
    up to), or None. Ranges locked by another claimer are skipped (PostgreSQL)."""
    ranges = table_of(CampaignIntakeRange)
    pick = (
        select(ranges.c.source_id, ranges.c.after_contact)
        .where(
            ranges.c.campaign_id == campaign_id,
            ranges.c.done.is_(False),
            or_(ranges.c.claim.is_(None), ranges.c.until <= now),
        )
        .order_by(ranges.c.source_id, ranges.c.after_contact)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    found = (await session.execute(pick)).first()
    if found is None:
        return None
    result = await session.execute(
        update(ranges)
        .where(
            ranges.c.campaign_id == campaign_id,
            tuple_(ranges.c.source_id, ranges.c.after_contact) == tuple_(*found),
        )
        .values(claim=claim, until=until)
        .returning(ranges.c.source_id, ranges.c.after_contact, ranges.c.upto_contact)
    )
    row = result.first()
    return (int(row[0]), int(row[1]), int(row[2])) if row else None


async def finish_intake_range(
    session: AsyncSession, *, campaign_id: int, source_id: int, after: int, claim: str
) -> bool:
    """Mark a range done, if ``claim`` still holds it; False when it was taken over (the
    caller must then roll back what it did for the range)."""
    ranges = table_of(CampaignIntakeRange)
    result = await session.execute(
        update(ranges)
        .where(
            ranges.c.campaign_id == campaign_id,
            ranges.c.source_id == source_id,
            ranges.c.after_contact == after,
            ranges.c.claim == claim,
            ranges.c.done.is_(False),
        )
        .values(done=True)
    )
    return bool(getattr(result, "rowcount", 0))


async def release_intake_range(session: AsyncSession, *, campaign_id: int, claim: str) -> None:
    ranges = table_of(CampaignIntakeRange)
    await session.execute(
        update(ranges)
        .where(
            ranges.c.campaign_id == campaign_id,
            ranges.c.claim == claim,
            ranges.c.done.is_(False),
        )
        .values(claim=None, until=None)
    )


async def intake_ranges_left(
    session: AsyncSession, *, campaign_id: int, source_id: int
) -> tuple[int, int, int | None]:
    """(ranges, ranges not done, the last contact of all ranges) of one source's intake."""
    ranges = table_of(CampaignIntakeRange)
    row = (
        await session.execute(
            select(
                func.count(),
                func.count().filter(ranges.c.done.is_(False)),
                func.max(ranges.c.upto_contact),
            ).where(ranges.c.campaign_id == campaign_id, ranges.c.source_id == source_id)
        )
    ).one()
    return int(row[0]), int(row[1]), (int(row[2]) if row[2] is not None else None)


async def drop_intake_ranges(session: AsyncSession, *, campaign_id: int, source_id: int) -> None:
    ranges = table_of(CampaignIntakeRange)
    await session.execute(
        delete(ranges).where(ranges.c.campaign_id == campaign_id, ranges.c.source_id == source_id)
    )
