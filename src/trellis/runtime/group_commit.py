"""Group commit: items that arrive together are written together, one transaction a batch.

Behaviour arrives in bursts (tracked events, form posts, email opens and clicks, page hits).
One transaction per item would spend most of its time beginning, committing and crossing to
the database; here the items that arrive while a batch is being written wait for the next
one, which takes them all. An idle server adds no delay: a lone item is a batch of one.

Two ways in, one writer:

- :meth:`GroupCommit.submit` waits until its item is committed and returns the item's result
  (a 200 then means "stored"). When a whole batch fails, its items are written one by one, so
  one bad item fails alone.
- :meth:`GroupCommit.add` returns at once (the pixel, the redirect, the page hit answer before
  anything is written). A batch that fails goes back to the front of the queue and is tried
  again with a growing pause; the queue is bounded (:class:`BufferFull`), and everything left
  is written on :meth:`GroupCommit.stop`.

``interval_s`` lets a batch fill for a while (the hit buffers write every ~200 ms or as soon
as ``max_batch`` wait); ``linger_s`` waits a few milliseconds under a steady load for the
callers just answered, who post again at once (see :meth:`GroupCommit._gather`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

# A batch committed longer ago than this says nothing about who is posting now.
RECENT_SECONDS = 0.1
MAX_BACKOFF_SECONDS = 10.0


class BufferFull(Exception):
    """The database has not answered for so long that the queue reached its bound."""


@dataclass
class _Entry(Generic[T, R]):
    item: T
    future: asyncio.Future[R] | None = field(default=None)

    def settle(self, outcome: R | BaseException) -> None:
        if self.future is None or self.future.done():  # added, or the caller went away
            return
        if isinstance(outcome, BaseException):
            self.future.set_exception(outcome)
        else:
            self.future.set_result(outcome)


class GroupCommit(Generic[T, R]):
    """``write(batch)`` stores a batch in one transaction and returns one outcome per item,
    in order: a result, or the exception that item alone failed with."""

    def __init__(
        self,
        write: Callable[[Sequence[T]], Awaitable[Sequence[R | BaseException]]],
        *,
        name: str,
        max_batch: int = 500,
        interval_s: float = 0.0,
        linger_s: float = 0.0,
        max_queued: int = 200_000,
    ) -> None:
        self._write = write
        self.name = name
        self.max_batch = max_batch
        self.interval_s = interval_s
        self.linger_s = linger_s
        self.max_queued = max_queued
        self._queue: deque[_Entry[T, R]] = deque()
        self._writer: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._writing = asyncio.Lock()
        self._backoff = 0.0
        self._stopping = False
        # (when, how many) callers were posting as of the last commit, for _gather.
        self._posting: tuple[float, int] = (0.0, 0)
        self.written = 0
        self.failures = 0

    def __len__(self) -> int:
        return len(self._queue)

    async def submit(self, item: T) -> R:
        """Write ``item`` with the others arriving now; its result once committed."""
        entry: _Entry[T, R] = _Entry(item, asyncio.get_running_loop().create_future())
        self._enqueue(entry)
        assert entry.future is not None
        return await entry.future

    def add(self, item: T) -> None:
        """Queue ``item`` to be written soon; raises :class:`BufferFull` at the bound."""
        if len(self._queue) >= self.max_queued:
            raise BufferFull(self.name)
        self._enqueue(_Entry(item))

    async def flush(self) -> None:
        """Write everything queued now (tests, benchmarks and shutdown use it)."""
        await self._drain_now()

    async def stop(self) -> None:
        """Write what was accepted (the application is shutting down), then stop."""
        self._stopping = True
        self._wake.set()
        if self._writer is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._writer), timeout=5)
        for _ in range(5):
            if not self._queue:
                return
            try:
                await self._drain_now()
            except Exception:
                log.exception("writing at shutdown failed; retrying", extra={"queue": self.name})
                await asyncio.sleep(0.5)
        if self._queue:
            log.error("items lost at shutdown", extra={"queue": self.name, "count": len(self)})

    # -- the writer ---------------------------------------------------------------------------

    def _enqueue(self, entry: _Entry[T, R]) -> None:
        self._queue.append(entry)
        if len(self._queue) >= self.max_batch:
            self._wake.set()
        # The writer lives only while there is something to write, on the loop of the callers
        # it serves: nothing to start with the application.
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._run(), name=f"trellis-{self.name}-writer")

    async def _run(self) -> None:
        while self._queue:
            await self._pause()
            try:
                await self._drain_now()
                self._backoff = 0.0
            except asyncio.CancelledError:
                raise
            except Exception:
                self.failures += 1
                # The database is away: keep the items and back off.
                self._backoff = min(max(self._backoff * 2, 0.2), MAX_BACKOFF_SECONDS)
                log.exception(
                    "group commit failed; the items are kept and retried",
                    extra={"queue": self.name, "retry_in_s": self._backoff},
                )

    async def _pause(self) -> None:
        delay = max(self._backoff, self.interval_s)
        if delay and not self._stopping and len(self._queue) < self.max_batch:
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
        await self._gather()

    async def _gather(self) -> None:
        """Under load, wait a moment (at most ``linger_s``) for the callers just answered.

        Each batch pays a fixed cost (the transaction, and whatever the writer loads once per
        batch) whatever its size. Under a steady load the callers answered by one commit post
        again while the next batch is being written; without a pause the writer would take
        whoever is waiting at that moment and the batches would split the callers between
        them, each paying the fixed cost for part of them. An idle server, or a post after a
        quiet spell, does not wait."""
        at, posting = self._posting
        wanted = min(self.max_batch, posting)
        if (
            not self.linger_s
            or len(self._queue) >= wanted
            or time.monotonic() - at > RECENT_SECONDS
        ):
            return
        deadline = time.monotonic() + self.linger_s
        while len(self._queue) < wanted and time.monotonic() < deadline:
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), deadline - time.monotonic())

    async def _drain_now(self) -> None:
        while self._queue:
            # One batch at a time, whoever drains (the writer, or flush).
            async with self._writing:
                count = min(self.max_batch, len(self._queue))
                batch = [self._queue.popleft() for _ in range(count)]
                if not batch:
                    return
                try:
                    await self._write_batch(batch)
                finally:
                    self._posting = (time.monotonic(), count + len(self._queue))

    async def _write_batch(self, batch: list[_Entry[T, R]]) -> None:
        try:
            outcomes = await self._write([entry.item for entry in batch])
        except Exception as error:
            if all(entry.future is None for entry in batch):
                self._requeue(batch)
                raise
            if len(batch) == 1:
                batch[0].settle(error)
                return
            # One bad item must not fail the others: write them one by one.
            log.warning("a batch failed; writing its items one by one", extra={"queue": self.name})
            await self._write_one_by_one(batch, error)
            return
        except BaseException as cancelled:
            self._requeue([entry for entry in batch if entry.future is None])
            for entry in batch:
                entry.settle(cancelled)
            raise
        for entry, outcome in zip(batch, outcomes, strict=True):
            entry.settle(outcome)
        self.written += len(batch)

    async def _write_one_by_one(self, batch: list[_Entry[T, R]], error: Exception) -> None:
        retry: list[_Entry[T, R]] = []
        for entry in batch:
            try:
                single = await self._write([entry.item])
            except Exception as single_error:
                if entry.future is None:
                    retry.append(entry)
                else:
                    entry.settle(single_error)
                continue
            entry.settle(single[0])
            self.written += 1
        if retry:
            self._requeue(retry)
            raise error

    def _requeue(self, entries: list[_Entry[T, R]]) -> None:
        """Items nobody waits for go back to the front of the queue, in their order."""
        self._queue.extendleft(reversed(entries))
