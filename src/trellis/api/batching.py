"""Group commit for the track API: concurrent ``POST /api/v2/events`` requests share one
transaction (see :mod:`trellis.runtime.group_commit`).

Websites and back ends send behaviour in bursts, and every event may move a contact down a
decision's yes path; each request is authenticated inside the batch's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor, Perm
from trellis.api.deps import current_actor, get_origin, optional_actor
from trellis.clock import Clock
from trellis.db.session import Database
from trellis.domains.campaigns.schemas import TrackEvent, TrackResult
from trellis.domains.campaigns.service import campaign_service
from trellis.errors import DomainError
from trellis.runtime.group_commit import GroupCommit


@dataclass(frozen=True)
class _Tracked:
    request: Request
    event: TrackEvent


class TrackBatcher:
    """``POST /api/v2/events`` through a :class:`GroupCommit`: each request is answered once
    its batch is committed, so a 200 means the event and its effects are stored."""

    def __init__(self, database: Database, clock: Clock, *, max_batch: int = 500) -> None:
        self.database = database
        self.clock = clock
        self._commit: GroupCommit[_Tracked, TrackResult] = GroupCommit(
            self._write, name="track", max_batch=max_batch
        )

    async def submit(self, request: Request, event: TrackEvent) -> TrackResult:
        return await self._commit.submit(_Tracked(request, event))

    async def stop(self) -> None:
        """Let the events already accepted be written (the application is shutting down)."""
        await self._commit.stop()

    async def _write(self, batch: Sequence[_Tracked]) -> list[TrackResult | BaseException]:
        now = self.clock.now()
        outcomes: dict[int, TrackResult | BaseException] = {}
        ready: list[int] = []
        # A back end sends its events with one token: look it up once per batch.
        by_token: dict[str, Actor] = {}
        async with self.database.unit_of_work(brief=True) as session:
            for index, tracked in enumerate(batch):
                try:
                    await _authorise(tracked.request, session, now, by_token)
                except DomainError as refused:
                    outcomes[index] = refused
                    continue
                ready.append(index)
            results = await campaign_service.track(
                session, events=[batch[i].event for i in ready], now=now
            )
            outcomes.update(zip(ready, results, strict=True))
        return [outcomes[index] for index in range(len(batch))]


async def _authorise(
    request: Request, session: AsyncSession, now: datetime, by_token: dict[str, Actor]
) -> None:
    origin = get_origin(request)
    bearer = request.headers.get("authorization")
    known = by_token.get(bearer) if bearer else None
    if known is not None:
        actor = replace(known, ip=origin.ip, user_agent=origin.user_agent)
    else:
        actor = await current_actor(await optional_actor(request, session, now, origin))
        if bearer:
            by_token[bearer] = actor
    actor.require("contacts", Perm.EDIT_OTHERS)
