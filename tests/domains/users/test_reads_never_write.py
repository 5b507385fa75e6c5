"""A GET never writes: the use of an API token (or the slide of a session) is recorded after
the request, so a read answers while another process holds the database's write lock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.fixtures.api import Harness
from tests.fixtures.database import DatabaseUnderTest
from trellis.db.session import create_engine
from trellis.settings import DatabaseSettings, Settings


@pytest.fixture
def settings(tmp_path: Path, test_database: DatabaseUnderTest) -> Settings:
    # A writer that waits for the lock gives up after a second instead of thirty.
    return Settings(
        data_dir=tmp_path / "data",
        database=DatabaseSettings(url=test_database.url, sqlite_busy_timeout_ms=1000),
        base_url="http://testserver",
    )


@asynccontextmanager
async def another_process_writing(url: str) -> AsyncIterator[None]:
    """Another connection in a write transaction: the SQLite write lock, or on PostgreSQL
    the lock on every API token row."""
    engine = create_engine(url, pooled=False)
    try:
        async with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                await conn.execute(text("INSERT INTO api_tokens SELECT * FROM api_tokens WHERE 0"))
            else:
                await conn.execute(text("SELECT id FROM api_tokens FOR UPDATE"))
            yield
            await conn.rollback()
    finally:
        await engine.dispose()


async def test_a_get_with_a_token_answers_while_another_process_writes(
    harness: Harness, test_database: DatabaseUnderTest
) -> None:
    user = await harness.create_user("reader@example.com")
    secret = await harness.create_token(user)
    # Last used long ago, so this request is one that records its use.
    harness.clock.advance(timedelta(hours=1))
    used_at = harness.clock.now()
    async with harness.client(token=secret) as client:
        async with another_process_writing(test_database.url):
            response = await client.get("/api/v2/projects")
            assert response.status_code == 200, response.text
        await harness.app.state.credential_uses.flush()
        harness.clock.advance(timedelta(seconds=5))
        listed = (await client.get("/api/v2/tokens")).json()["data"]
    assert [datetime.fromisoformat(t["last_used_at"]) for t in listed] == [used_at]
