"""User regular expressions: RE2 on SQLite, refusals at save time, a time limit on counts."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import literal, select, text

from tests.fixtures.api import Harness
from trellis.db.session import Database

PATHOLOGICAL = "^(a+)+$"


def regexp(value: str, field: str = "first_name") -> dict[str, Any]:
    condition = {"type": "field", "field": field, "operator": "regexp", "value": value}
    return {"match": "all", "conditions": [condition]}


async def test_a_backtracking_pattern_counts_at_once_and_health_answers(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    """``^(a+)+$`` against a..a! takes Python's re 2^n steps (forever at 99 characters); RE2
    and PostgreSQL answer at once, and the server keeps answering meanwhile."""
    for name in ("a" * 99 + "!", "a" * 99, "AAA"):
        created = await admin.post("/api/v2/contacts", json={"first_name": name})
        assert created.status_code == 201, created.text
    async with harness.client() as public:
        counted, health = await asyncio.gather(
            admin.post("/api/v2/segments/count", json={"filters": regexp(PATHOLOGICAL)}),
            public.get("/healthz"),
        )
    assert health.status_code == 200
    assert counted.status_code == 200, counted.text
    assert counted.json() == {"count": 2}  # case is ignored on both databases
    saved = await admin.post(
        "/api/v2/segments", json={"name": "All a", "filters": regexp(PATHOLOGICAL)}
    )
    assert saved.status_code == 201, saved.text


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("(a)\\1", "invalid escape sequence"),
        ("(?=a)b", "invalid perl operator"),
        ("(?<=a)b", "invalid perl operator"),
        ("a{1000}{1000}", "bad repetition operator"),
        ("x" * 201, "at most 200 characters"),
        ("(?P<name>a)", "named groups"),
        ("\\bword", "\\b"),
    ],
)
async def test_patterns_re2_or_postgresql_cannot_run_safely_are_refused_on_save(
    admin: httpx.AsyncClient, pattern: str, reason: str
) -> None:
    for path, body in (
        ("/api/v2/segments", {"name": "Bad", "filters": regexp(pattern)}),
        ("/api/v2/segments/count", {"filters": regexp(pattern)}),
    ):
        refused = await admin.post(path, json=body)
        assert refused.status_code == 422, refused.text
        [error] = refused.json()["errors"]
        assert error["pointer"] == "/filters/conditions/0/value"
        assert reason in error["detail"]
    assert (await admin.get("/api/v2/segments")).json()["meta"]["total"] == 0


async def test_sqlite_regexp_is_re2_not_python_re(database: Database) -> None:
    if database.dialect != "sqlite":
        pytest.skip("PostgreSQL runs its own regular expression engine")
    async with database.engine.connect() as conn:
        # Python's re would backtrack here for ever, and call an Arabic-Indic three a digit.
        slow = select(literal("a" * 100_000 + "!").regexp_match(PATHOLOGICAL))
        assert await conn.scalar(slow) == 0
        assert await conn.scalar(select(literal("\u0663").regexp_match(r"^\d$"))) == 0
        assert await conn.scalar(select(literal("7").regexp_match(r"^\d$"))) == 1
        assert await conn.scalar(text("SELECT trellis_regexp('^ab$', 'AB')")) == 1
