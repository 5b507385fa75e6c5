"""Opens and clicks are answered at once (the pixel, the redirect) and written with the others
that arrived in the same ~200 ms, or as soon as a batch is full, in one transaction (a
:class:`~trellis.runtime.group_commit.GroupCommit` fed with ``add``)."""

from __future__ import annotations

from collections.abc import Sequence

from trellis.clock import Clock
from trellis.db.session import Database
from trellis.domains.tracking.service import Hit, tracking_service
from trellis.runtime.group_commit import GroupCommit

HitQueue = GroupCommit[Hit, None]


def hit_queue(
    database: Database,
    clock: Clock,
    *,
    interval_s: float = 0.2,
    batch_size: int = 500,
    max_buffered: int = 200_000,
) -> HitQueue:
    async def write(batch: Sequence[Hit]) -> list[None]:
        async with database.unit_of_work(brief=True) as session:
            await tracking_service.record_hits(session, batch, clock.now())
        return [None] * len(batch)

    return GroupCommit(
        write,
        name="tracking-hits",
        max_batch=batch_size,
        interval_s=interval_s,
        max_queued=max_buffered,
    )
