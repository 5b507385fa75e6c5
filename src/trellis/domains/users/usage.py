"""When API tokens and sign-in sessions were last used, written after the request in batches
(a :class:`~trellis.runtime.group_commit.GroupCommit` fed with ``add``).

A GET runs in a read transaction; writing ``last_used_at`` there made it a writer, and on
SQLite a writer waits for the write lock: a read answered 503 "database is busy" while another
process wrote. The use is recorded to the second, not to the request: a token used many times
a minute is written at most once a minute (see ``AuthService.resolve_token``), and the uses
that arrive within ``interval_s`` share a transaction. A batch that cannot be written is kept
and retried; beyond ``max_queued`` waiting uses new ones are dropped, since the time of last
use is a hint for people, never a decision."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from trellis.db.session import Database
from trellis.domains.users.service import Use
from trellis.domains.users.sign_in import auth_service
from trellis.runtime.group_commit import BufferFull, GroupCommit

log = logging.getLogger(__name__)


class UsageQueue:
    def __init__(
        self, database: Database, *, interval_s: float = 1.0, max_queued: int = 10_000
    ) -> None:
        async def write(batch: Sequence[Use]) -> list[None]:
            async with database.unit_of_work(brief=True) as session:
                await auth_service.record_uses(session, batch)
            return [None] * len(batch)

        self._queue: GroupCommit[Use, None] = GroupCommit(
            write, name="credential-uses", interval_s=interval_s, max_queued=max_queued
        )

    def add(self, item: Use) -> None:
        try:
            self._queue.add(item)
        except BufferFull:
            log.warning("credential use not recorded: the queue is full", extra={"id": item.id})

    async def flush(self) -> None:
        await self._queue.flush()

    async def stop(self) -> None:
        await self._queue.stop()
