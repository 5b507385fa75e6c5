"""Engines, sessions and the unit of work.

SQLite gets WAL, foreign keys and a busy timeout on every connection, and transactions are
begun explicitly so that writers can take the lock up front (``BEGIN IMMEDIATE``) instead of
failing with SQLITE_BUSY when a read transaction later tries to write.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from trellis.db import sqlite_driver
from trellis.db.patterns import register_sqlite_functions
from trellis.db.urls import sqlite_file
from trellis.files import create_private_empty
from trellis.jobs.base import JobBackend, job_buffer

# Set while this task holds the SQLite write lock, so a nested unit of work does not wait on
# itself.
_holding_write_lock: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "trellis_holding_write_lock", default=False
)

SqliteBegin = Literal["IMMEDIATE", "DEFERRED"]


def _configure_sqlite(engine: AsyncEngine, *, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin hook below own transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        register_sqlite_functions(dbapi_connection)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


def create_engine(
    url: str,
    *,
    echo: bool = False,
    pool_size: int = 10,
    sqlite_busy_timeout_ms: int = 30_000,
    pooled: bool = True,
) -> AsyncEngine:
    """An async engine. ``pooled=False`` opens a connection per use, for callers that run
    on more than one event loop (connections belong to the loop that opened them)."""
    pool_options: dict[str, Any] = (
        {"pool_size": pool_size, "max_overflow": pool_size} if pooled else {"poolclass": NullPool}
    )
    if url.startswith("sqlite"):
        database_file = sqlite_file(url)
        if database_file is not None and Path(database_file).parent.is_dir():
            # SQLite would create it with the umask (world-readable under 022) and give the
            # -wal and -shm files the database file's mode: create it private first.
            create_private_empty(Path(database_file))
        engine = create_async_engine(url, echo=echo, module=sqlite_driver.dbapi(), **pool_options)
        _configure_sqlite(engine, busy_timeout_ms=sqlite_busy_timeout_ms)
        return engine
    return create_async_engine(
        url,
        echo=echo,
        pool_pre_ping=pooled,
        # asyncpg prepares every statement; after five runs PostgreSQL may switch a prepared
        # statement to a generic plan that ignores the parameters. For batch statements over
        # id arrays and tables growing inside the transaction that plan can be a thousand times
        # slower (a broadcast's "already received" check: 44 s instead of 0.2 s per 100,000).
        connect_args={"server_settings": {"plan_cache_mode": "force_custom_plan"}},
        **pool_options,
    )


@dataclass
class Database:
    """An engine, its session factories, and the job backend that commits hand jobs to."""

    engine: AsyncEngine
    jobs: JobBackend | None = None

    def __post_init__(self) -> None:
        self._writer = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        # SQLite has one writer at a time. Queueing writers of this process here, in order,
        # beats each polling the file lock with growing sleeps (the busy timeout).
        self._write_lock = asyncio.Lock() if self.engine.dialect.name == "sqlite" else None
        reader_bind = self.engine.execution_options(sqlite_begin="DEFERRED")
        self._reader = async_sessionmaker(reader_bind, expire_on_commit=False, autoflush=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def unit_of_work(
        self, *, read_only: bool = False, brief: bool = False
    ) -> AsyncIterator[AsyncSession]:
        """One transaction: commit on success, roll back on error, then enqueue buffered jobs.

        Jobs are handed to the backend only after the commit succeeded, so a worker never
        wakes up for rows it cannot see yet. ``brief``: every statement is short (a hot path
        writing a small batch); on SQLite they then run without a thread hop (ADR 0008).
        """
        factory = self._reader if read_only else self._writer
        lock = None if read_only or _holding_write_lock.get() else self._write_lock
        if lock is not None:
            await lock.acquire()
            token = _holding_write_lock.set(True)
        try:
            with sqlite_driver.run_inline() if brief else contextlib.nullcontext():
                async with self._transaction(factory) as session:
                    yield session
        finally:
            if lock is not None:
                _holding_write_lock.reset(token)
                lock.release()

    @asynccontextmanager
    async def _transaction(
        self, factory: async_sessionmaker[AsyncSession]
    ) -> AsyncIterator[AsyncSession]:
        with job_buffer() as pending:
            async with factory() as session:
                try:
                    yield session
                    await session.commit()
                except BaseException:
                    await session.rollback()
                    raise
            if self.jobs is not None:
                for job in pending:
                    await self.jobs.enqueue(job)

    async def dispose(self) -> None:
        await self.engine.dispose()
