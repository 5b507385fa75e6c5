"""The same behaviour through Trellis's SQLite driver (ADR 0008) and through SQLAlchemy's stock
aiosqlite adapter, the library it replaced: transactions, isolation between connections, the
busy timeout, type adapters, errors. Each test runs on both; a difference is a driver bug."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    insert,
    select,
    text,
)
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from trellis.db import sqlite_driver
from trellis.db.session import create_engine

metadata = MetaData()
things = Table(
    "things",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(50), unique=True),
    Column("flag", Boolean),
    Column("at", DateTime(timezone=True)),
    Column("day", Date),
    Column("amount", Numeric(10, 2)),
    Column("data", JSON),
    Column("blob", LargeBinary),
)


@pytest.fixture(params=["trellis", "aiosqlite"])
def make_engine(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Any:
    if request.param == "aiosqlite":
        monkeypatch.setattr(
            sqlite_driver, "dbapi", lambda: AsyncAdapt_aiosqlite_dbapi(aiosqlite, sqlite3)
        )

    def make(**options: Any) -> AsyncEngine:
        return create_engine(f"sqlite+aiosqlite:///{tmp_path / 'conformance.db'}", **options)

    return make


@pytest.fixture
async def engine(make_engine: Any) -> AsyncIterator[AsyncEngine]:
    engine = make_engine()
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


async def test_type_adapters_round_trip(engine: AsyncEngine) -> None:
    row = {
        "name": "ada",
        "flag": True,
        "at": datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC),
        "day": date(2026, 3, 2),
        "amount": Decimal("12.34"),
        "data": {"tags": ["a", "b"], "n": 1, "nested": {"x": None}},
        "blob": b"\x00\x01\xff",
    }
    async with engine.begin() as conn:
        await conn.execute(insert(things), [row])
        stored = (await conn.execute(select(things))).mappings().one()
    assert stored["flag"] is True
    assert stored["at"].replace(tzinfo=UTC) == row["at"]
    assert stored["day"] == row["day"]
    assert stored["amount"] == row["amount"]
    assert stored["data"] == row["data"]
    assert stored["blob"] == row["blob"]


async def test_a_rolled_back_transaction_leaves_nothing(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.begin()
        await conn.execute(insert(things).values(name="gone"))
        await conn.rollback()
    async with engine.begin() as conn:
        await conn.execute(insert(things).values(name="kept"))
    async with engine.connect() as conn:
        names = (await conn.execute(select(things.c.name))).scalars().all()
    assert names == ["kept"]


async def test_an_integrity_error_is_sqlalchemys_and_the_transaction_rolls_back(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(things).values(name="ada"))

    async def insert_both() -> None:
        async with engine.begin() as conn:
            await conn.execute(insert(things).values(name="bob"))
            await conn.execute(insert(things).values(name="ada"))

    with pytest.raises(IntegrityError):
        await insert_both()
    async with engine.connect() as conn:
        names = (await conn.execute(select(things.c.name))).scalars().all()
    assert names == ["ada"]


async def test_a_reader_sees_its_snapshot_until_it_ends(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(things).values(name="first"))
    reader_engine = engine.execution_options(sqlite_begin="DEFERRED")
    async with reader_engine.connect() as reader:
        await reader.begin()
        before = (await reader.execute(select(things.c.name))).scalars().all()
        async with engine.begin() as writer:
            await writer.execute(insert(things).values(name="second"))
        during = (await reader.execute(select(things.c.name))).scalars().all()
        await reader.rollback()
        after = (await reader.execute(select(things.c.name))).scalars().all()
        await reader.rollback()
    assert before == during == ["first"]
    assert after == ["first", "second"]


async def test_a_second_writer_waits_for_the_lock_then_gives_up_after_the_busy_timeout(
    make_engine: Any, engine: AsyncEngine
) -> None:
    impatient = make_engine(sqlite_busy_timeout_ms=200)
    try:
        async with engine.connect() as holder:
            await holder.begin()
            await holder.execute(insert(things).values(name="holder"))
            with pytest.raises(OperationalError, match="database is locked"):
                async with impatient.begin() as conn:
                    await conn.execute(insert(things).values(name="impatient"))
            await holder.commit()

        # Released within the timeout: the waiting writer gets the lock.
        patient = make_engine(sqlite_busy_timeout_ms=10_000)
        try:
            async with engine.connect() as holder:
                await holder.begin()
                await holder.execute(insert(things).values(name="second holder"))

                async def write_when_free() -> None:
                    async with patient.begin() as conn:
                        await conn.execute(insert(things).values(name="patient"))

                waiting = asyncio.create_task(write_when_free())
                await asyncio.sleep(0.3)
                assert not waiting.done()
                await holder.commit()
                await waiting
        finally:
            await patient.dispose()
    finally:
        await impatient.dispose()
    async with engine.connect() as conn:
        names = set((await conn.execute(select(things.c.name))).scalars().all())
    assert names == {"holder", "second holder", "patient"}


async def test_large_results_and_executemany_agree(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(things), [{"name": f"n{i}"} for i in range(5000)])
        count = (await conn.execute(text("SELECT COUNT(*) FROM things"))).scalar_one()
        streamed = await conn.stream(select(things.c.id).order_by(things.c.id))
        seen = [row[0] async for row in streamed]
    assert count == 5000
    assert seen == list(range(1, 5001))
