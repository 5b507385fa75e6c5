from __future__ import annotations

from typing import Any

import pytest

from trellis.clock import FixedClock, SystemClock
from trellis.db.session import Database
from trellis.jobs.base import NoUnitOfWork, enqueue_job
from trellis.jobs.inline import InlineBackend
from trellis.jobs.registry import JobContext, JobRegistry, job

CALLS: list[dict[str, Any]] = []
FAILURES: dict[str, int] = {}


@job("tests.record", max_retries=0)
async def record(ctx: JobContext, payload: dict[str, Any]) -> None:
    CALLS.append(payload)


@job("tests.flaky", max_retries=2)
async def flaky(ctx: JobContext, payload: dict[str, Any]) -> None:
    key = payload["key"]
    FAILURES[key] = FAILURES.get(key, 0) + 1
    if FAILURES[key] <= payload["fail_times"]:
        raise RuntimeError("transient")
    CALLS.append(payload)


@pytest.fixture
async def backend(database: Database) -> Any:
    CALLS.clear()
    FAILURES.clear()
    context = JobContext(database=database, clock=SystemClock())
    inline = InlineBackend(lambda: context, JobRegistry([record, flaky]), concurrency=2)
    database.jobs = inline
    await inline.start()
    yield inline
    await inline.stop()


async def test_jobs_run_only_after_commit(database: Database, backend: InlineBackend) -> None:
    async with database.unit_of_work():
        enqueue_job("tests.record", {"n": 1})
        await backend.drain(within_s=1)
        assert CALLS == []
    await backend.drain()
    assert CALLS == [{"n": 1}]


async def test_rollback_discards_buffered_jobs(database: Database, backend: InlineBackend) -> None:
    async def failing_transaction() -> None:
        async with database.unit_of_work():
            enqueue_job("tests.record", {"n": 2})
            raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        await failing_transaction()
    await backend.drain()
    assert CALLS == []


async def test_duplicate_keys_in_one_transaction_run_once(
    database: Database, backend: InlineBackend
) -> None:
    async with database.unit_of_work():
        enqueue_job("tests.record", {"n": 3}, dedupe_key="k")
        enqueue_job("tests.record", {"n": 3}, dedupe_key="k")
    await backend.drain()
    assert CALLS == [{"n": 3}]


async def test_failures_are_retried_with_backoff(
    database: Database, backend: InlineBackend
) -> None:
    async with database.unit_of_work():
        enqueue_job("tests.flaky", {"key": "a", "fail_times": 1})
        enqueue_job("tests.flaky", {"key": "b", "fail_times": 5})
    await backend.drain(within_s=10)
    assert CALLS == [{"key": "a", "fail_times": 1}]
    assert FAILURES == {"a": 2, "b": 3}


def test_enqueue_outside_a_unit_of_work_is_an_error() -> None:
    with pytest.raises(NoUnitOfWork):
        enqueue_job("tests.record")


def test_fixed_clock_moves_only_when_told() -> None:
    from datetime import UTC, datetime, timedelta

    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    assert clock.now() == clock.now()
    assert clock.advance(timedelta(days=1)) == datetime(2026, 1, 2, tzinfo=UTC)
