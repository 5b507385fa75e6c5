"""The embedded backend: jobs run on asyncio tasks inside the serving process."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from trellis.jobs.base import PendingJob
from trellis.jobs.registry import JobContext, JobRegistry, UnknownJob

log = logging.getLogger(__name__)


class InlineBackend:
    """Runs each enqueued job on a bounded pool of asyncio workers.

    Jobs with the same dedupe key that are still waiting are merged; failures are retried
    with exponential backoff up to the job's ``max_retries``. Nothing here is durable, by
    design: the rows in the database are, and the scheduler re-enqueues whatever is due.
    """

    distributed = False

    def __init__(
        self,
        context_factory: Callable[[], JobContext],
        jobs: JobRegistry,
        *,
        concurrency: int = 4,
    ) -> None:
        self._context_factory = context_factory
        self._jobs = jobs
        self._concurrency = concurrency
        self._queue: asyncio.Queue[tuple[PendingJob, int]] = asyncio.Queue()
        self._waiting_keys: set[str] = set()
        self._workers: list[asyncio.Task[None]] = []
        self._timers: set[asyncio.TimerHandle] = set()
        self._running = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def start(self) -> None:
        if self._workers:
            return
        self._workers = [
            asyncio.create_task(self._work(), name=f"trellis-job-{i}")
            for i in range(self._concurrency)
        ]

    async def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []

    async def enqueue(self, job: PendingJob) -> None:
        if job.dedupe_key is not None:
            if job.dedupe_key in self._waiting_keys:
                return
            self._waiting_keys.add(job.dedupe_key)
        self._idle.clear()
        if job.delay_s:
            self._later(job, attempt=0, delay=job.delay_s)
        else:
            self._queue.put_nowait((job, 0))

    def _later(self, job: PendingJob, *, attempt: int, delay: float) -> None:
        loop = asyncio.get_running_loop()

        def put() -> None:
            self._timers.discard(handle)
            self._queue.put_nowait((job, attempt))

        handle = loop.call_later(delay, put)
        self._timers.add(handle)

    async def drain(self, within_s: float = 30.0) -> None:
        """Wait until no job is queued, delayed or running (tests and CLI commands)."""
        async with asyncio.timeout(within_s):
            while True:
                await self._idle.wait()
                await asyncio.sleep(0)
                if self._is_idle():
                    return

    def _is_idle(self) -> bool:
        return self._queue.empty() and not self._timers and self._running == 0

    async def _work(self) -> None:
        while True:
            job, attempt = await self._queue.get()
            self._running += 1
            if job.dedupe_key is not None:
                self._waiting_keys.discard(job.dedupe_key)
            try:
                await self._jobs.get(job.name).function(self._context_factory(), job.payload)
            except asyncio.CancelledError:
                raise
            except Exception:
                if attempt < self._retries_of(job.name):
                    delay = min(2.0**attempt, 60.0)
                    log.warning(
                        "job failed; retrying",
                        exc_info=True,
                        extra={"job": job.name, "attempt": attempt + 1, "retry_in_s": delay},
                    )
                    self._later(job, attempt=attempt + 1, delay=delay)
                else:
                    log.exception("job failed for good", extra={"job": job.name})
            finally:
                self._running -= 1
                self._queue.task_done()
                if self._is_idle():
                    self._idle.set()

    def _retries_of(self, name: str) -> int:
        try:
            return self._jobs.get(name).max_retries
        except UnknownJob:
            return 0
