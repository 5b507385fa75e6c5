"""The SQLite driver under SQLAlchemy (ADR 0008): results of every size, errors, writes, and
statements kept off the event loop's thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from trellis.db import sqlite_driver
from trellis.db.session import create_engine


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
    yield engine
    await engine.dispose()


def numbers(n: int) -> Any:
    return text(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :n) "
        "SELECT i FROM n"
    ).bindparams(n=n)


async def test_results_larger_than_one_hop_are_read_whole(engine: AsyncEngine) -> None:
    big = sqlite_driver.PREFETCH_ROWS * 2 + 17
    async with engine.connect() as conn:
        assert [r[0] for r in (await conn.execute(numbers(big))).all()] == list(range(1, big + 1))
        assert (await conn.execute(numbers(3))).scalars().all() == [1, 2, 3]
        assert (await conn.execute(text("SELECT 1 WHERE 0"))).all() == []


async def test_streamed_results_come_in_parts_and_can_be_left_early(engine: AsyncEngine) -> None:
    big = sqlite_driver.PREFETCH_ROWS * 3
    async with engine.connect() as conn:
        result = await conn.stream(numbers(big))
        parts = [len(part) async for part in result.partitions(700)]
        assert sum(parts) == big
        assert max(parts) == 700
        # Abandoning a large result releases its cursor; the connection goes on working.
        partial = await conn.stream(numbers(big))
        assert (await partial.fetchmany(5))[-1][0] == 5
        await partial.close()
        assert (await conn.execute(text("SELECT 42"))).scalar() == 42


async def test_writes_rowcount_returning_and_executemany(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        inserted = await conn.execute(
            text("INSERT INTO t (name) VALUES (:name)"), [{"name": f"n{i}"} for i in range(50)]
        )
        assert inserted.rowcount == 50
        one = await conn.execute(text("INSERT INTO t (name) VALUES ('solo')"))
        assert one.lastrowid == 51
        updated = await conn.execute(text("UPDATE t SET name = name || '!' WHERE id <= 10"))
        assert updated.rowcount == 10
        returned = await conn.execute(
            text("UPDATE t SET name = upper(name) WHERE id > 40 RETURNING id")
        )
        assert sorted(returned.scalars().all()) == list(range(41, 52))
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT name FROM t WHERE id = 1"))).scalar() == "n0!"


async def test_errors_are_sqlalchemy_errors_and_roll_back(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES ('dup')"))
        with pytest.raises(IntegrityError):
            await conn.execute(text("INSERT INTO t (name) VALUES ('dup')"))
        await conn.rollback()
        with pytest.raises(OperationalError, match="no such table"):
            await conn.execute(text("SELECT * FROM missing"))
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 0


async def test_statements_run_off_the_event_loop_thread(engine: AsyncEngine) -> None:
    threads: set[str] = set()

    @event.listens_for(engine.sync_engine, "connect")
    def register(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.create_function(
            "where_am_i", 0, lambda: threads.add(threading.current_thread().name) or 1
        )

    await engine.dispose()  # the next connection gets the function
    loop_thread = threading.current_thread().name

    async def ask() -> int:
        async with engine.connect() as conn:
            return int((await conn.execute(text("SELECT where_am_i()"))).scalar_one())

    assert await asyncio.gather(ask(), ask()) == [1, 1]
    assert threads
    assert loop_thread not in threads
    assert all(name == "trellis-sqlite" for name in threads)
