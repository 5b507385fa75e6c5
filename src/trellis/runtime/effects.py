"""Claims on outside effects (ADR 0016): who holds a running step, the heartbeat that keeps
its lease while the holder is alive, and the ports an outside call runs with, outside any
transaction.

A step that calls out (a webhook) is claimed with a token naming the worker and the claim.
While its batch is being worked, a :class:`Heartbeat` pushes the lease forward in short
transactions of its own, so the lease only runs out when the holder stops renewing it: when the
process died or lost the database for a whole lease. Whoever takes an expired step over writes
its own token; the old holder's "done" then matches nothing and is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.db.session import Database
from trellis.events.base import (
    CampaignsPort,
    ContactsPort,
    FiltersPort,
    HttpPort,
    NoMailer,
    Ports,
)
from trellis.runtime.journal import renew_leases

log = logging.getLogger(__name__)

WORKER_ID = f"{socket.gethostname()[:40]}:{os.getpid()}"


def new_claim() -> str:
    """A claim token: this worker, and one claim of it (at most 64 characters)."""
    return f"{WORKER_ID}:{uuid.uuid4().hex[:16]}"


Renewal = Callable[[AsyncSession, datetime], Awaitable[int]]


class Heartbeat:
    """Renews a lease every third of its length until the block ends: ``renew`` is given a
    session and the new end of the lease, and answers how many rows it still holds (none:
    the beat stops, the lease was lost).

    Lease times are on the caller's clock (``now`` may be a test clock or ``--now``); the time
    that really passed is added to it. A renewal that fails is logged and tried again at the
    next beat: if the database stays away for a whole lease, the work is given back, and this
    worker's results for it are then refused.
    """

    def __init__(
        self, database: Database, renew: Renewal, *, now: datetime, lease_s: float
    ) -> None:
        self.database = database
        self.renew = renew
        self.now = now
        self.lease_s = lease_s
        self._started = time.monotonic()
        self._task: asyncio.Task[None] | None = None

    def until(self) -> datetime:
        elapsed = time.monotonic() - self._started
        return self.now + timedelta(seconds=elapsed + self.lease_s)

    def clock(self) -> datetime:
        """``now`` moved on by the time that really passed."""
        return self.now + timedelta(seconds=time.monotonic() - self._started)

    async def __aenter__(self) -> Heartbeat:
        self._task = asyncio.create_task(self._beat())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _beat(self) -> None:
        interval = max(self.lease_s / 3, 0.05)
        while True:
            await asyncio.sleep(interval)
            try:
                async with self.database.unit_of_work(brief=True) as session:
                    held = await self.renew(session, self.until())
            except Exception:
                log.warning("lease renewal failed", exc_info=True)
                continue
            if not held:
                return


def step_lease(
    database: Database, *, event_id: int, claim: str, now: datetime, lease_s: float
) -> Heartbeat:
    """The heartbeat of the running steps one claim holds."""

    async def renew(session: AsyncSession, until: datetime) -> int:
        return await renew_leases(session, event_id=event_id, claim=claim, until=until)

    return Heartbeat(database, renew, now=now, lease_s=lease_s)


class _Detached:
    """Refuses the database-backed ports: an outside call runs with no transaction open, and
    everything it needs from the database is read before (see ``PreloadedContacts``)."""

    async def _refuse(self, *_: Any, **__: Any) -> Any:
        raise RuntimeError(
            "an external step runs outside the database transaction; read what it needs "
            "through contacts.values only"
        )

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._refuse


class PreloadedContacts(_Detached):
    def __init__(self, values: Mapping[int, Mapping[str, Any]]) -> None:
        self._values = values

    async def values(self, contact_ids: Sequence[int]) -> Mapping[int, Mapping[str, Any]]:
        return {cid: self._values[cid] for cid in contact_ids if cid in self._values}


def detached_ports(http: HttpPort, values: Mapping[int, Mapping[str, Any]]) -> Ports:
    """The ports of an external step: contact values read beforehand, and the network."""
    contacts: ContactsPort = PreloadedContacts(values)
    campaigns: CampaignsPort = _Detached()
    filters: FiltersPort = _Detached()
    return Ports(
        contacts=contacts, campaigns=campaigns, filters=filters, http=http, mail=NoMailer()
    )
