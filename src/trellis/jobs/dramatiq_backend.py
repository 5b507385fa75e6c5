"""The distributed backend: jobs travel through Dramatiq queues on Redis or RabbitMQ.

Producers (API processes, the scheduler) put messages on the broker; ``trellis worker``
processes consume them. Job functions stay plain coroutines: Dramatiq's worker threads hand
each one to the worker's own asyncio loop, so a worker keeps one database pool for its
scheduler and its consumers alike.

A message only wakes work up (see :mod:`trellis.jobs.base`); the rows it points at are the
truth, so Dramatiq's at-least-once delivery is exactly what the engine expects.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import AgeLimit, Callbacks, Pipelines, Retries, ShutdownNotifications

from trellis.jobs.base import PendingJob
from trellis.jobs.registry import JobContext, JobRegistry, JobSpec

log = logging.getLogger(__name__)

# A stopping worker gives its running jobs this long, then cancels them.
STOP_GRACE_S = 4.0
STOP_AFTER_CANCEL_S = 3.0
_RETRY_MIN_BACKOFF_MS = 1_000
_RETRY_MAX_BACKOFF_MS = 60_000


class BrokerUrlError(ValueError):
    """The broker URL names no broker Trellis can use."""


def make_broker(url: str, *, namespace: str) -> dramatiq.Broker:
    """A Redis (``redis://``, ``rediss://``) or RabbitMQ (``amqp://``, ``amqps://``) broker."""
    scheme = urlsplit(url).scheme
    # No TimeLimit middleware (it interrupts a thread anywhere): a job that needs a limit says
    # so (JobSpec.time_limit_s) and is cancelled on the loop instead. An import of a million
    # rows must not be cut off by a wall clock. A job that dies mid-way leaves claimed rows
    # whose leases expire, and that is the recovery path.
    middleware = [
        AgeLimit(),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        Retries(min_backoff=_RETRY_MIN_BACKOFF_MS, max_backoff=_RETRY_MAX_BACKOFF_MS),
    ]
    if scheme in ("redis", "rediss"):
        return RedisBroker(  # type: ignore[no-untyped-call]
            url=url, namespace=namespace, middleware=middleware
        )
    if scheme in ("amqp", "amqps"):
        return RabbitmqBroker(url=url, middleware=middleware, confirm_delivery=True)
    raise BrokerUrlError(
        f"TRELLIS_JOBS__BROKER_URL must start with redis://, rediss://, amqp:// or amqps://, "
        f"not {scheme + '://' if scheme else 'nothing'}"
    )


def queue_name(namespace: str, queue: str) -> str:
    # RabbitMQ has no namespaces: the prefix keeps two instances on one broker apart.
    return f"{namespace}.{queue}"


class DramatiqBackend:
    """Sends jobs to the broker. Sending happens on one dedicated thread: broker clients block,
    and the RabbitMQ client keeps one channel per thread."""

    distributed = True

    def __init__(
        self,
        broker: dramatiq.Broker,
        jobs: JobRegistry,
        *,
        namespace: str,
        dedupe_window_s: float = 1.0,
    ) -> None:
        self.broker = broker
        self.jobs = jobs
        self.namespace = namespace
        self._dedupe_window_s = dedupe_window_s
        self._sent_at: dict[str, float] = {}
        self._sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="trellis-enqueue")

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self._sender.shutdown(wait=True)

    async def enqueue(self, job: PendingJob) -> None:
        if job.dedupe_key is not None and self._recently_sent(job.dedupe_key):
            return
        spec = self.jobs.get(job.name)
        message: dramatiq.Message[Any] = dramatiq.Message(
            queue_name=queue_name(self.namespace, spec.queue),
            actor_name=job.name,
            args=(job.payload,),
            kwargs={},
            options={"max_retries": spec.max_retries},
        )
        delay_ms = int(job.delay_s * 1000) if job.delay_s else None
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(
            self._sender, lambda: self.broker.enqueue(message, delay=delay_ms)
        )

    def _recently_sent(self, key: str) -> bool:
        # Duplicates are harmless, but a scheduler that ticks every second should not flood
        # the broker with the same wake-up while a worker is still busy with the last one.
        now = time.monotonic()
        if now - self._sent_at.get(key, float("-inf")) < self._dedupe_window_s:
            return True
        if len(self._sent_at) > 10_000:
            self._sent_at = {
                k: t for k, t in self._sent_at.items() if now - t < self._dedupe_window_s
            }
        self._sent_at[key] = now
        return False


class Consumers:
    """Dramatiq worker threads that run every job of the registry on ``loop``."""

    def __init__(
        self,
        broker: dramatiq.Broker,
        jobs: JobRegistry,
        *,
        namespace: str,
        context: Callable[[], JobContext],
        loop: asyncio.AbstractEventLoop,
        threads: int,
    ) -> None:
        self.broker = broker
        self._running: set[concurrent.futures.Future[None]] = set()
        for spec in jobs:
            declare = dramatiq.actor(
                broker=broker,
                actor_name=spec.name,
                queue_name=queue_name(namespace, spec.queue),
                max_retries=spec.max_retries,
            )
            declare(_runner(spec, context, loop, self._running))
        self.worker = dramatiq.Worker(broker, worker_threads=threads)

    def start(self) -> None:
        self.worker.start()

    def stop(self, grace_s: float = STOP_GRACE_S) -> None:
        """Stop taking messages, give the running jobs ``grace_s`` to finish, then cancel
        them (call it off the loop thread: the running jobs need the loop to finish). A
        cancelled job leaves its claimed rows to their leases, as a killed worker does."""
        cancel = threading.Timer(grace_s, self._cancel_running)
        cancel.daemon = True
        cancel.start()
        try:
            self.worker.stop(timeout=int((grace_s + STOP_AFTER_CANCEL_S) * 1000))
        finally:
            cancel.cancel()
        self.broker.close()

    def _cancel_running(self) -> None:
        for future in list(self._running):
            future.cancel()


def _runner(
    spec: JobSpec,
    context: Callable[[], JobContext],
    loop: asyncio.AbstractEventLoop,
    running: set[concurrent.futures.Future[None]],
) -> Callable[[dict[str, Any]], None]:
    async def call(payload: dict[str, Any]) -> None:
        work = spec.function(context(), payload)
        if spec.time_limit_s is None:
            await work
            return
        try:
            await asyncio.wait_for(work, timeout=spec.time_limit_s)
        except TimeoutError:
            # Acknowledged, not retried: what the job did is in the database, and the
            # scheduler's next wake-up carries on from there.
            log.warning(
                "job stopped at its time limit",
                extra={"job": spec.name, "time_limit_s": spec.time_limit_s},
            )

    def run(payload: dict[str, Any]) -> None:
        future = asyncio.run_coroutine_threadsafe(call(payload), loop)
        running.add(future)
        try:
            future.result()
        finally:
            running.discard(future)

    run.__name__ = spec.name.replace(".", "_")
    return run
