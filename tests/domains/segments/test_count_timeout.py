"""A segment count runs under a time limit: PostgreSQL cancels it (statement_timeout)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.fixtures.api import Harness
from tests.fixtures.database import DatabaseUnderTest
from trellis.domains.segments.service import segment_service
from trellis.settings import DatabaseSettings, Settings


def regexp(value: str) -> dict[str, Any]:
    condition = {"type": "field", "field": "first_name", "operator": "regexp", "value": value}
    return {"match": "all", "conditions": [condition]}


@pytest.fixture
def settings(tmp_path: Path, test_database: DatabaseUnderTest) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database=DatabaseSettings(url=test_database.url, interactive_query_timeout_s=0.001),
        base_url="http://testserver",
    )


@pytest.fixture
def restore_count_timeout() -> Iterator[None]:
    yield
    segment_service.count_timeout_s = DatabaseSettings().interactive_query_timeout_s


async def test_postgresql_cancels_a_count_past_its_time_limit(
    harness: Harness, admin: httpx.AsyncClient, restore_count_timeout: None
) -> None:
    """The count runs under statement_timeout (1 ms here): PostgreSQL cancels it, the API
    answers a 422 problem, and the connection serves the next request."""
    if harness.database.dialect != "postgresql":
        pytest.skip("SQLite interrupts instead; RE2 keeps its counts linear")
    async with harness.database.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO contacts (first_name, last_name, fields, points, is_anonymous, "
                "created_at, updated_at, version) SELECT repeat('a', 90) || g, 'x', '{}', 0, "
                "false, now(), now(), 1 FROM generate_series(1, 200000) AS g"
            )
        )
    counted = await admin.post(
        "/api/v2/segments/count", json={"filters": regexp("^(a|aa)*[0-9]+9$")}
    )
    assert counted.status_code == 422, counted.text
    problem = counted.json()
    assert problem["type"].endswith("/query-timeout")
    assert "took longer than 0.001 s" in problem["detail"]
    assert (await admin.get("/api/v2/segments")).status_code == 200
