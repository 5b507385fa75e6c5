"""Group commit for the track API: concurrent ``POST /api/v2/events`` requests share one
transaction.

Websites and back ends send behaviour in bursts, and every event may move a contact down a
decision's yes path. One transaction per request would spend most of its time beginning,
committing and crossing to the database thread; here the requests that arrive while a batch is
being written wait for the next one, which takes them all. An idle server adds no delay: a lone
request is a batch of one.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, replace

from fastapi import Request

from trellis.actor import Actor, Perm
from trellis.api.deps import current_actor, get_origin, optional_actor
from trellis.clock import Clock
from trellis.db.session import Database
from trellis.domains.campaigns.schemas import TrackEvent, TrackResult
from trellis.domains.campaigns.service import campaign_service
from trellis.errors import DomainError

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    request: Request
    event: TrackEvent
    future: asyncio.Future[TrackResult] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    def settle(self, outcome: TrackResult | BaseException) -> None:
        if self.future.done():  # the client went away
            return
        if isinstance(outcome, BaseException):
            self.future.set_exception(outcome)
        else:
            self.future.set_result(outcome)


class TrackBatcher:
    def __init__(self, database: Database, clock: Clock, *, max_batch: int = 500) -> None:
        self.database = database
        self.clock = clock
        self.max_batch = max_batch
        self._pending: list[_Pending] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, request: Request, event: TrackEvent) -> TrackResult:
        pending = _Pending(request, event)
        self._pending.append(pending)
        # The writer lives only while there is something to write, on the loop of the requests
        # it serves: nothing to start or stop with the application.
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain(), name="trellis-track-writer")
        return await pending.future

    async def stop(self) -> None:
        """Let the events already accepted be written (the application is shutting down)."""
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)

    async def _drain(self) -> None:
        while self._pending:
            batch = self._pending[: self.max_batch]
            del self._pending[: self.max_batch]
            try:
                await self._write(batch)
            except Exception as error:
                if len(batch) == 1:
                    log.exception("tracking an event failed")
                    batch[0].settle(error)
                    continue
                # One bad event must not fail the others: write them one by one.
                log.warning("a batch of tracked events failed; retrying one by one", exc_info=True)
                for pending in batch:
                    try:
                        await self._write([pending])
                    except Exception as single_error:
                        log.exception("tracking an event failed")
                        pending.settle(single_error)

    async def _write(self, batch: list[_Pending]) -> None:
        now = self.clock.now()
        outcomes: list[tuple[_Pending, TrackResult | BaseException]] = []
        # A back end sends its events with one token: look it up once per batch.
        by_token: dict[str, Actor] = {}
        async with self.database.unit_of_work(brief=True) as session:
            ready: list[_Pending] = []
            for pending in batch:
                request = pending.request
                origin = get_origin(request)
                bearer = request.headers.get("authorization")
                try:
                    known = by_token.get(bearer) if bearer else None
                    if known is not None:
                        actor = replace(known, ip=origin.ip, user_agent=origin.user_agent)
                    else:
                        actor = await current_actor(
                            await optional_actor(request, session, now, origin)
                        )
                        if bearer:
                            by_token[bearer] = actor
                    actor.require("contacts", Perm.EDIT_OTHERS)
                except DomainError as refused:
                    outcomes.append((pending, refused))
                    continue
                ready.append(pending)
            results = await campaign_service.track(
                session, events=[p.event for p in ready], now=now
            )
            outcomes.extend(zip(ready, results, strict=True))
        # Answered only after the commit: a 200 means the event and its effects are stored.
        for pending, outcome in outcomes:
            pending.settle(outcome)
