"""Migration 0012 gives every existing segment, email, field, stage and project its own uuid."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from tests.fixtures.database import DatabaseUnderTest
from trellis.db import migrate
from trellis.db.session import create_engine

NOW = datetime(2026, 1, 1, tzinfo=UTC)


async def test_existing_rows_get_distinct_uuids(test_database: DatabaseUnderTest) -> None:
    url = test_database.url
    await migrate.downgrade(url, "0011")
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            for n in (1, 2):
                await conn.execute(
                    text(
                        "INSERT INTO stages (name, description, position, created_at, "
                        "updated_at, version) VALUES (:name, '', 0, :now, :now, 1)"
                    ),
                    {"name": f"Stage {n}", "now": NOW},
                )
        await migrate.upgrade(url)
        async with engine.connect() as conn:
            uuids = [row[0] for row in await conn.execute(text("SELECT uuid FROM stages"))]
    finally:
        await engine.dispose()
    assert len(uuids) == 2
    assert len(set(uuids)) == 2
    assert all(len(u) == 36 for u in uuids)
