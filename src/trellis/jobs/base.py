"""The job contract: backends that run jobs, and the buffer that enqueues them after commit.

A job only wakes a worker up; the database stays the source of truth, so a lost job is
harmless and a duplicated one is harmless (unique keys and row claims make work happen once).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class PendingJob:
    name: str
    payload: dict[str, Any] = field(default_factory=dict)
    delay_s: float | None = None
    dedupe_key: str | None = None


class JobBackend(Protocol):
    # True when jobs leave the process (a broker): work worth spreading over workers is then
    # enqueued in pieces instead of being run by the caller.
    distributed: bool

    async def enqueue(self, job: PendingJob) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


_buffer: contextvars.ContextVar[list[PendingJob] | None] = contextvars.ContextVar(
    "trellis_job_buffer", default=None
)


class NoUnitOfWork(RuntimeError):
    """enqueue_job was called outside a unit of work, where nothing would ever send it."""


def enqueue_job(
    name: str,
    payload: dict[str, Any] | None = None,
    *,
    delay_s: float | None = None,
    dedupe_key: str | None = None,
) -> None:
    """Buffer a job; the unit of work hands it to the backend only once its commit succeeded."""
    buffer = _buffer.get()
    if buffer is None:
        raise NoUnitOfWork(f"job {name!r} enqueued outside a unit of work")
    job = PendingJob(name, payload or {}, delay_s, dedupe_key)
    if dedupe_key is not None and any(j.dedupe_key == dedupe_key for j in buffer):
        return
    buffer.append(job)


@contextmanager
def job_buffer() -> Iterator[list[PendingJob]]:
    jobs: list[PendingJob] = []
    token = _buffer.set(jobs)
    try:
        yield jobs
    finally:
        _buffer.reset(token)
