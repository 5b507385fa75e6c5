"""Background work of website tracking: the buffer that writes page hits in batches.

The endpoint answers at once (204) and the hit is written with the others that arrived in the
same ~200 ms, or as soon as 500 are waiting, in one transaction (the email hit buffer's
mechanics: a failed batch goes back to the front of the queue; everything left is written at
shutdown). Form submissions that carry a visitor id queue an identification here too, so the
form's hot path writes nothing more.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from trellis.domains.site_tracking.service import Identification, WebHit, web_service
from trellis.domains.tracking.tasks import BufferFull, HitBuffer

log = logging.getLogger(__name__)

__all__ = ["BufferFull", "WebHitBuffer"]


class WebHitBuffer(HitBuffer):
    """Page hits and identifications, written a batch per transaction."""

    def add(self, hit: Any) -> None:
        if not isinstance(hit, WebHit | Identification):
            raise TypeError("a page hit or an identification")
        super().add(cast(Any, hit))

    async def start(self) -> None:
        await super().start()
        if self._task is not None:
            self._task.set_name("trellis-web-hits")

    async def flush(self) -> int:
        written = 0
        async with self._lock:
            while self._pending:
                count = min(self.batch_size, len(self._pending))
                batch: list[Any] = [self._pending.popleft() for _ in range(count)]
                hits = [item for item in batch if isinstance(item, WebHit)]
                identifications = [item for item in batch if isinstance(item, Identification)]
                try:
                    async with self.database.unit_of_work(brief=True) as session:
                        await web_service.record(
                            session, hits, self.clock.now(), identifications=identifications
                        )
                except BaseException:
                    self._pending.extendleft(reversed(batch))
                    raise
                written += count
                self.written += count
        return written
