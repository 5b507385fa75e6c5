"""Background services that ``trellis serve`` runs next to the API: periodic loops, each one
a small unit of work on an interval, stopped cleanly on shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Service:
    name: str
    interval_s: float
    run_once: Callable[[], Awaitable[object]]


class ServiceRunner:
    def __init__(self, services: list[Service]) -> None:
        self._services = services
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()

    @property
    def names(self) -> list[str]:
        return [s.name for s in self._services]

    async def start(self) -> None:
        self._stopping.clear()
        self._tasks = [
            asyncio.create_task(self._loop(s), name=f"trellis-service-{s.name}")
            for s in self._services
        ]
        log.info("services started", extra={"services": self.names})

    async def stop(self) -> None:
        self._stopping.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _loop(self, service: Service) -> None:
        while not self._stopping.is_set():
            try:
                await service.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                # One failing pass must not stop the service; the next pass retries.
                log.exception("service pass failed", extra={"service": service.name})
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=service.interval_s)
            except TimeoutError:
                continue
