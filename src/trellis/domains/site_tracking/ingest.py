"""Page hits are answered at once (204) and written with the others that arrived in the same
~200 ms, or as soon as a batch is full, in one transaction (a
:class:`~trellis.runtime.group_commit.GroupCommit` fed with ``add``). Form submissions that
carry a visitor id queue an identification here too, so the form's hot path writes nothing
more."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime

from trellis.clock import Clock
from trellis.db.session import Database
from trellis.domains.site_tracking.service import Identification, WebHit, valid_visitor, web_service
from trellis.runtime.group_commit import BufferFull, GroupCommit

WebItem = WebHit | Identification


class HitQueue(GroupCommit[WebItem, None]):
    def identify(self, visitor: str, submission_id: int, at: datetime) -> None:
        """The visitor that sent a form becomes the submission's contact, with the next batch
        of page hits (an invalid visitor id is ignored)."""
        checked = valid_visitor(visitor)
        if checked is None:
            return
        # Tracking backed up: the visitor stays anonymous, the submission is stored all the same.
        with contextlib.suppress(BufferFull):
            self.add(Identification(checked, submission_id, at))


def hit_queue(
    database: Database,
    clock: Clock,
    *,
    interval_s: float = 0.2,
    batch_size: int = 500,
    max_buffered: int = 200_000,
) -> HitQueue:
    async def write(batch: Sequence[WebItem]) -> list[None]:
        hits = [item for item in batch if isinstance(item, WebHit)]
        identifications = [item for item in batch if isinstance(item, Identification)]
        async with database.unit_of_work(brief=True) as session:
            await web_service.record(session, hits, clock.now(), identifications=identifications)
        return [None] * len(batch)

    return HitQueue(
        write,
        name="web-hits",
        max_batch=batch_size,
        interval_s=interval_s,
        max_queued=max_buffered,
    )
