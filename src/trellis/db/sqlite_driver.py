"""SQLite for asyncio with one thread hop per statement (ADR 0008).

SQLAlchemy's async SQLite dialect drives ``aiosqlite``, which runs every call on a worker
thread: opening a cursor, executing, fetching and closing are four round trips between the
event loop and the thread for one statement. Each round trip wakes the thread, wakes the loop
and hands the GIL over twice, and on a busy two-core machine that costs about 60 µs of CPU,
while the statements the engine and the API run mostly take a few microseconds in SQLite.

This module is a drop-in for ``aiosqlite`` as far as the dialect uses it: ``execute`` runs the
statement and reads up to :data:`PREFETCH_ROWS` rows in one hop, and the cursor answers
``fetch*``, ``description``, ``rowcount`` and ``close`` from that without going back to the
thread. Larger results keep their SQLite cursor open on the thread and are read in further
hops, so memory stays bounded. Statements run off the event loop, so a long query does not
stall the requests being served.

The hot paths whose transactions are made of short statements (the track API's group commit,
the tracking-hit writer, email delivery) may go further: within :func:`run_inline`, statements
run on the calling thread with no hop at all. ``BEGIN`` still goes to the thread, because it may
wait for another process's write lock (the busy timeout); once a transaction holds the lock,
its statements do not wait on anyone.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import queue
import sqlite3
import sys
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from functools import partial
from typing import Any

from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi

# The DB-API names the SQLAlchemy adapter copies from its driver module.
DatabaseError = sqlite3.DatabaseError
Error = sqlite3.Error
IntegrityError = sqlite3.IntegrityError
NotSupportedError = sqlite3.NotSupportedError
OperationalError = sqlite3.OperationalError
ProgrammingError = sqlite3.ProgrammingError
sqlite_version = sqlite3.sqlite_version
sqlite_version_info = sqlite3.sqlite_version_info

PREFETCH_ROWS = 2000

_inline: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "trellis_sqlite_inline", default=False
)


@contextlib.contextmanager
def run_inline() -> Iterator[None]:
    """Statements of this task run on its own thread, except ``BEGIN`` (see the module)."""
    token = _inline.set(True)
    try:
        yield
    finally:
        _inline.reset(token)


_Work = tuple["asyncio.Future[Any] | None", Callable[[], Any]]


def _STOP() -> None:
    """Queued to end a connection's thread."""


def _settle(future: asyncio.Future[Any], outcome: Any, failed: bool) -> None:
    if future.done():  # the awaiting task was cancelled
        return
    if failed:
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


def _serve(work: queue.SimpleQueue[_Work]) -> None:
    """The connection's thread: run each queued call and hand its outcome to the loop."""
    while True:
        future, function = work.get()
        if function is _STOP:
            if future is not None:
                future.get_loop().call_soon_threadsafe(_settle, future, None, False)
            return
        try:
            outcome, failed = function(), False
        except BaseException as error:
            outcome, failed = error, True
        if future is not None:
            # A closed loop has nobody waiting any more.
            with contextlib.suppress(RuntimeError):
                future.get_loop().call_soon_threadsafe(_settle, future, outcome, failed)


class Connection:
    """One SQLite connection living on its own thread."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        self._connector = connector
        # Names the SQLAlchemy adapter reaches into: it sets the isolation level by putting a
        # (future, function) pair on ``_tx`` that calls into ``_conn``.
        self._tx: queue.SimpleQueue[_Work] = queue.SimpleQueue()
        self._conn: sqlite3.Connection | None = None
        self._connection: sqlite3.Connection | None = None
        self._thread = threading.Thread(
            target=_serve, args=(self._tx,), name="trellis-sqlite", daemon=True
        )

    def __await__(self) -> Generator[Any, None, Connection]:
        return self._open().__await__()

    async def _open(self) -> Connection:
        self._thread.start()
        try:
            self._conn = await self.run(self._connector)
        except BaseException:
            self._tx.put_nowait((None, _STOP))
            raise
        self._connection = self._conn
        return self

    async def run(self, function: Callable[[], Any], *, may_wait: bool = False) -> Any:
        """Run ``function`` on the connection's thread and return what it returned; within
        :func:`run_inline`, on the caller's thread unless it ``may_wait`` for a lock."""
        if _inline.get() and not may_wait:
            return function()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._tx.put_nowait((future, function))
        return await future

    @property
    def _live(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ValueError("Connection closed")
        return self._conn

    def interrupt(self) -> None:
        """Stop the statement running on the connection's thread (safe from any thread): it
        fails with ``sqlite3.OperationalError: interrupted``."""
        if self._conn is not None:
            self._conn.interrupt()

    @property
    def isolation_level(self) -> str | None:
        return self._live.isolation_level

    def cursor(self) -> Cursor:
        return Cursor(self)

    async def commit(self) -> None:
        await self.run(self._live.commit)

    async def rollback(self) -> None:
        await self.run(self._live.rollback)

    async def create_function(
        self, name: str, num_params: int, func: Callable[..., Any], deterministic: bool = False
    ) -> None:
        await self.run(
            partial(self._live.create_function, name, num_params, func, deterministic=deterministic)
        )

    async def close(self) -> None:
        if self._conn is None:
            return
        connection, self._conn, self._connection = self._conn, None, None
        try:
            await self.run(connection.close)
        finally:
            self._tx.put_nowait((None, _STOP))

    def stop(self) -> None:
        """Close without waiting (the pool terminates a connection it gave up on)."""
        if self._conn is not None:
            connection, self._conn, self._connection = self._conn, None, None
            self._tx.put_nowait((None, connection.close))
        self._tx.put_nowait((None, _STOP))


class Cursor:
    arraysize = 1

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: deque[Any] = deque()
        # Set while a large result is still being read on the thread.
        self._open: sqlite3.Cursor | None = None

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Cursor:
        await self._release()
        connection = self._connection._live

        def run() -> tuple[Any, list[Any], int, int | None, sqlite3.Cursor | None]:
            cursor = connection.cursor()
            try:
                cursor.execute(sql, () if parameters is None else parameters)
                if cursor.description is None:
                    return None, [], cursor.rowcount, cursor.lastrowid, None
                rows = cursor.fetchmany(PREFETCH_ROWS)
            except BaseException:
                cursor.close()
                raise
            if len(rows) < PREFETCH_ROWS:
                cursor.close()
                return cursor.description, rows, cursor.rowcount, cursor.lastrowid, None
            return cursor.description, rows, -1, cursor.lastrowid, cursor

        (
            self.description,
            rows,
            self.rowcount,
            self.lastrowid,
            self._open,
        ) = await self._connection.run(run, may_wait=sql.lstrip()[:5].upper() == "BEGIN")
        self._rows = deque(rows)
        return self

    async def executemany(self, sql: str, seq_of_parameters: Sequence[Any]) -> Cursor:
        await self._release()
        connection = self._connection._live

        def run() -> tuple[int, int | None]:
            cursor = connection.cursor()
            try:
                cursor.executemany(sql, seq_of_parameters)
                return cursor.rowcount, cursor.lastrowid
            finally:
                cursor.close()

        self.description = None
        self._rows = deque()
        self.rowcount, self.lastrowid = await self._connection.run(run)
        return self

    async def _read(self, size: int | None) -> None:
        """Top the buffer up from a result still open on the thread (all of it if no size)."""
        cursor = self._open
        if cursor is None:
            return

        def run() -> tuple[list[Any], bool, int]:
            rows = cursor.fetchall() if size is None else cursor.fetchmany(size)
            done = size is None or len(rows) < size
            if done:
                cursor.close()
            return rows, done, cursor.rowcount

        rows, done, rowcount = await self._connection.run(run)
        self._rows.extend(rows)
        if done:
            self._open = None
            self.rowcount = rowcount

    async def fetchone(self) -> Any:
        if not self._rows:
            await self._read(PREFETCH_ROWS)
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        wanted = self.arraysize if size is None else size
        if len(self._rows) < wanted:
            await self._read(max(wanted - len(self._rows), PREFETCH_ROWS))
        return [self._rows.popleft() for _ in range(min(wanted, len(self._rows)))]

    async def fetchall(self) -> list[Any]:
        await self._read(None)
        rows = list(self._rows)
        self._rows.clear()
        return rows

    async def _release(self) -> None:
        if self._open is not None:
            cursor, self._open = self._open, None
            await self._connection.run(cursor.close)

    async def close(self) -> None:
        self._rows.clear()
        await self._release()


def connect(database: str, **kwargs: Any) -> Connection:
    """Like ``aiosqlite.connect``: an awaitable connection; keywords go to ``sqlite3.connect``."""
    kwargs.pop("iter_chunk_size", None)
    kwargs.pop("loop", None)
    # Used from the event loop's thread too, within run_inline; never from two threads at once
    # (each call is awaited before the next).
    kwargs["check_same_thread"] = False
    return Connection(partial(sqlite3.connect, database, **kwargs))


def dbapi() -> AsyncAdapt_aiosqlite_dbapi:
    """The DB-API module to give SQLAlchemy's aiosqlite dialect (``create_async_engine(...,
    module=dbapi())``)."""
    return AsyncAdapt_aiosqlite_dbapi(sys.modules[__name__], sqlite3)
