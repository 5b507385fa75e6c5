"""Segment rebuilds as jobs and service loops.

Each slice of contacts is its own unit of work, so a rebuild of a million contacts holds
SQLite's write lock for a fraction of a second at a time and the API stays responsive.

Service loops for ``api/app.py`` (intended intervals):

- :func:`rebuild_all_published` every 15 minutes (900 s): a full rebuild of every published
  segment, in dependency order; it also catches up relative-date segments ("joined today").
- :func:`rebuild_changed_contacts` every second (1 s): the contacts whose ``updated_at`` moved
  since the last pass are re-evaluated against every published segment, so a contact who
  gets a tag through the API is in the matching segments within two seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from trellis.db.session import Database
from trellis.domains.segments.service import (
    DEFAULT_BATCH_SIZE,
    REBUILD_JOB,
    RebuildResult,
    segment_service,
)
from trellis.jobs.registry import JobContext, job

FULL_REBUILD_INTERVAL_S = 900.0
INCREMENTAL_INTERVAL_S = 1.0
# The first incremental pass looks this far back (the full pass at start-up covers the rest).
INCREMENTAL_LOOKBACK = timedelta(minutes=1)

# A rebuild that changed at least this many memberships (and a tenth of the segment)
# refreshes the planner's statistics of the membership tables, as autovacuum would later.
ANALYZE_AFTER_CHANGES = 10_000

# progress(segment result so far, slices done, slices in all)
Progress = Callable[[RebuildResult, int, int], None]


async def rebuild_segments(
    database: Database,
    *,
    now: datetime,
    segment_ids: Sequence[int] | None = None,
    updated_after: datetime | None = None,
    default_timezone: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
) -> list[RebuildResult]:
    """Rebuild the given segments (or every published one) in dependency order.

    A segment whose filters fail is reported in its result and the others still run.
    """
    async with database.unit_of_work(read_only=True) as session:
        plans = await segment_service.plan_rebuild(
            session,
            now=now,
            segment_ids=segment_ids,
            updated_after=updated_after,
            default_timezone=default_timezone,
            batch_size=batch_size,
        )
    results = []
    bulk_change = False
    for plan in plans:
        result = RebuildResult(plan.segment_id, plan.name, error=plan.error)
        results.append(result)
        if plan.error is not None:
            continue
        started = time.perf_counter()
        for done, part in enumerate(plan.slices, start=1):
            async with database.unit_of_work() as session:
                joined, left = await segment_service.rebuild_slice(session, plan, part, now=now)
            result.joined += joined
            result.left += left
            if progress is not None:
                progress(result, done, len(plan.slices))
        async with database.unit_of_work() as session:
            result.total = await segment_service.finish_rebuild(
                session, plan.segment_id, now=now if updated_after is None else None
            )
        result.seconds = time.perf_counter() - started
        changed = result.joined + result.left
        bulk_change = bulk_change or changed >= max(ANALYZE_AFTER_CHANGES, result.total // 10)
    if bulk_change:
        async with database.unit_of_work() as session:
            await segment_service.refresh_statistics(session)
    return results


@job(REBUILD_JOB, max_retries=1)
async def rebuild_one(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Rebuild one segment (POST /segments/{id}/rebuild)."""
    await rebuild_segments(
        ctx.database, now=ctx.clock.now(), segment_ids=[int(payload["segment_id"])]
    )


@job("segments.rebuild_all", max_retries=0)
async def rebuild_all_published(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Full rebuild of every published segment; run every FULL_REBUILD_INTERVAL_S."""
    await rebuild_segments(ctx.database, now=ctx.clock.now())


@dataclass
class _Cursor:
    context: JobContext
    updated_after: datetime


# Per job context (one per app); the context is kept so that its id is never reused.
_CURSORS: dict[int, _Cursor] = {}


@job("segments.rebuild_changed", max_retries=0)
async def rebuild_changed_contacts(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Re-evaluate the contacts updated since the last pass against every published
    segment; run every INCREMENTAL_INTERVAL_S."""
    cursor = _CURSORS.get(id(ctx))
    if cursor is None:
        cursor = _Cursor(ctx, ctx.clock.now() - INCREMENTAL_LOOKBACK)
        _CURSORS[id(ctx)] = cursor
    async with ctx.database.unit_of_work(read_only=True) as session:
        window = await segment_service.changed_contacts(session, after=cursor.updated_after)
    if window.count == 0 or window.last_updated_at is None:
        return
    now = ctx.clock.now()
    await rebuild_segments(ctx.database, now=now, updated_after=cursor.updated_after)
    # Never past this process's clock: a contact stamped in the future (a CLI run with
    # `--now` ahead, another host's clock) would otherwise hide every later change until that
    # time comes. Such a contact is re-evaluated each pass until then, which is harmless.
    cursor.updated_after = max(cursor.updated_after, min(window.last_updated_at, now))
