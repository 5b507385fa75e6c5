"""The distributed job backend against a real Redis and a real RabbitMQ, and `trellis worker`
processes that take campaign work from them."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.domains.campaigns.helpers import campaign, contacts, edge, step
from tests.fixtures.api import Harness
from tests.fixtures.processes import read_until
from trellis.clock import SystemClock
from trellis.db.session import Database
from trellis.domains.campaigns.dispatch import campaign_dispatch
from trellis.jobs.base import PendingJob, enqueue_job
from trellis.jobs.dramatiq_backend import (
    BrokerUrlError,
    Consumers,
    DramatiqBackend,
    make_broker,
)
from trellis.jobs.registry import JobContext, JobRegistry, job
from trellis.settings import JobsSettings

BROKERS = {
    "redis": os.environ.get("TRELLIS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
    "rabbitmq": os.environ.get("TRELLIS_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/"),
}

WORKER = [sys.executable, "-m", "trellis.cli.main", "worker"]
SEEN: dict[str, list[dict[str, Any]]] = {}
ATTEMPTS: dict[str, int] = {}


@job("tests.dramatiq.record", max_retries=0)
async def record(ctx: JobContext, payload: dict[str, Any]) -> None:
    # Runs on the worker's loop, with the worker's database: prove both work.
    async with ctx.database.unit_of_work(read_only=True) as session:
        payload = {**payload, "db": (await session.connection()).dialect.name}
    SEEN.setdefault(payload["run"], []).append(payload)


@job("tests.dramatiq.flaky", max_retries=2)
async def flaky(ctx: JobContext, payload: dict[str, Any]) -> None:
    ATTEMPTS[payload["run"]] = ATTEMPTS.get(payload["run"], 0) + 1
    if ATTEMPTS[payload["run"]] <= payload["fail_times"]:
        raise RuntimeError("transient")
    SEEN.setdefault(payload["run"], []).append(payload)


async def _sleep_until_cancelled(payload: dict[str, Any]) -> None:
    SEEN.setdefault(payload["run"], []).append({"started": True})
    try:
        await asyncio.sleep(600)
    except asyncio.CancelledError:
        SEEN[payload["run"]].append({"cancelled": True})
        raise


@job("tests.dramatiq.limited", max_retries=0, time_limit_s=0.5)
async def limited(ctx: JobContext, payload: dict[str, Any]) -> None:
    await _sleep_until_cancelled(payload)


@job("tests.dramatiq.endless", max_retries=0)
async def endless(ctx: JobContext, payload: dict[str, Any]) -> None:
    await _sleep_until_cancelled(payload)


TEST_JOBS = JobRegistry([record, flaky, limited, endless])


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), 1):
            return True
    except OSError:
        return False


@pytest.fixture(params=sorted(BROKERS))
def broker_url(request: pytest.FixtureRequest) -> str:
    url = BROKERS[request.param]
    if not _reachable(url):
        if os.environ.get("CI"):
            pytest.fail(f"{request.param} is not reachable at {url}, and CI must test it")
        pytest.skip(f"no {request.param} at {url}")
    return url


@pytest.fixture
def namespace() -> str:
    # A namespace (queue prefix) per test keeps parallel test workers off each other's queues.
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def distributed(
    broker_url: str, namespace: str, database: Database
) -> AsyncIterator[DramatiqBackend]:
    context = JobContext(database=database, clock=SystemClock())
    backend = DramatiqBackend(
        make_broker(broker_url, namespace=namespace), TEST_JOBS, namespace=namespace
    )
    database.jobs = backend
    consumers = Consumers(
        make_broker(broker_url, namespace=namespace),
        TEST_JOBS,
        namespace=namespace,
        context=lambda: context,
        loop=asyncio.get_running_loop(),
        threads=2,
    )
    consumers.start()
    try:
        yield backend
    finally:
        await asyncio.to_thread(consumers.stop)
        await backend.stop()
        backend.broker.close()


async def _wait_for(run: str, count: int, within_s: float = 20.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if len(SEEN.get(run, [])) >= count:
            return SEEN[run]
        await asyncio.sleep(0.05)
    raise AssertionError(f"only {len(SEEN.get(run, []))} of {count} jobs ran for {run}")


async def test_jobs_committed_in_a_unit_of_work_reach_a_consumer(
    distributed: DramatiqBackend, database: Database
) -> None:
    run = uuid.uuid4().hex
    async with database.unit_of_work():
        for n in range(5):
            enqueue_job("tests.dramatiq.record", {"run": run, "n": n})
    seen = await _wait_for(run, 5)
    assert sorted(p["n"] for p in seen) == [0, 1, 2, 3, 4]
    assert {p["db"] for p in seen} == {database.dialect}


async def test_a_rolled_back_unit_of_work_sends_nothing(
    distributed: DramatiqBackend, database: Database
) -> None:
    run = uuid.uuid4().hex

    async def abandoned() -> None:
        async with database.unit_of_work():
            enqueue_job("tests.dramatiq.record", {"run": run, "n": 0})
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError, match="abort"):
        await abandoned()
    async with database.unit_of_work():
        enqueue_job("tests.dramatiq.record", {"run": run, "n": 1})
    seen = await _wait_for(run, 1)
    await asyncio.sleep(0.3)
    assert [p["n"] for p in seen] == [1]


async def test_failed_jobs_are_retried_with_backoff(distributed: DramatiqBackend) -> None:
    run = uuid.uuid4().hex
    await distributed.enqueue(PendingJob("tests.dramatiq.flaky", {"run": run, "fail_times": 1}))
    await _wait_for(run, 1, within_s=30)
    assert ATTEMPTS[run] == 2


async def test_delayed_jobs_wait_and_duplicate_wakeups_are_merged(
    distributed: DramatiqBackend,
) -> None:
    run = uuid.uuid4().hex
    started = time.monotonic()
    for _ in range(3):
        await distributed.enqueue(
            PendingJob("tests.dramatiq.record", {"run": run}, delay_s=0.5, dedupe_key=run)
        )
    await _wait_for(run, 1)
    assert time.monotonic() - started >= 0.5
    await asyncio.sleep(0.8)
    assert len(SEEN[run]) == 1


async def test_a_job_past_its_time_limit_is_stopped_and_the_consumer_goes_on(
    distributed: DramatiqBackend,
) -> None:
    run, after = uuid.uuid4().hex, uuid.uuid4().hex
    await distributed.enqueue(PendingJob("tests.dramatiq.limited", {"run": run}))
    await distributed.enqueue(PendingJob("tests.dramatiq.record", {"run": after}))
    assert await _wait_for(run, 2, within_s=30) == [{"started": True}, {"cancelled": True}]
    await _wait_for(after, 1)


async def test_a_stopping_consumer_cancels_jobs_still_running_after_the_grace(
    broker_url: str, namespace: str, database: Database
) -> None:
    context = JobContext(database=database, clock=SystemClock())
    backend = DramatiqBackend(
        make_broker(broker_url, namespace=namespace), TEST_JOBS, namespace=namespace
    )
    consumers = Consumers(
        make_broker(broker_url, namespace=namespace),
        TEST_JOBS,
        namespace=namespace,
        context=lambda: context,
        loop=asyncio.get_running_loop(),
        threads=1,
    )
    consumers.start()
    run = uuid.uuid4().hex
    try:
        await backend.enqueue(PendingJob("tests.dramatiq.endless", {"run": run}))
        await _wait_for(run, 1)
    finally:
        await asyncio.to_thread(consumers.stop, 0.5)
        await backend.stop()
        backend.broker.close()
    assert SEEN[run] == [{"started": True}, {"cancelled": True}]


def test_broker_settings_are_checked() -> None:
    with pytest.raises(BrokerUrlError, match="redis://"):
        make_broker("http://127.0.0.1:6379", namespace="x")
    with pytest.raises(ValueError, match="BROKER_URL"):
        JobsSettings(backend="dramatiq")
    with pytest.raises(ValueError, match="pattern"):
        JobsSettings(namespace="bad name")


# -- worker processes -------------------------------------------------------------------------


@pytest.fixture
def worker_env(harness: Harness, broker_url: str, namespace: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "TRELLIS_DATA_DIR": str(tmp_path / "worker"),
        "TRELLIS_DATABASE__URL": harness.settings.database_url,
        "TRELLIS_LOGGING__TO_FILE": "false",
        "TRELLIS_JOBS__BACKEND": "dramatiq",
        "TRELLIS_JOBS__BROKER_URL": broker_url,
        "TRELLIS_JOBS__NAMESPACE": namespace,
    }


@pytest.fixture
def consumer_processes(harness: Harness, worker_env: dict[str, str]) -> Iterator[int]:
    if harness.database.dialect != "postgresql":
        pytest.skip("trellis worker needs PostgreSQL")
    count = 2
    processes = [
        subprocess.Popen(
            [*WORKER, "--no-scheduler", "--threads", "2"],
            env=worker_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(count)
    ]
    banners = []
    try:
        # Work is handed out only once every process listens, so that each can take a share.
        for process in processes:
            banners.append(read_until(process, "worker running"))
        yield count
    finally:
        outputs = []
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            outputs.append(process.communicate(timeout=60)[0].decode())
        for process, output in zip(processes, outputs, strict=True):
            assert process.returncode == 0, output
        assert all("worker running: queued jobs" in banner for banner in banners)


async def test_worker_processes_run_the_campaigns_the_scheduler_hands_out(
    harness: Harness,
    admin: httpx.AsyncClient,
    broker_url: str,
    namespace: str,
    consumer_processes: int,
) -> None:
    people = await contacts(admin, *({"email": f"d{i}@example.com"} for i in range(40)))
    soon = step(
        "contact.change_points",
        {"delta": 3},
        timing={"mode": "interval", "amount": 1, "unit": "minute"},
    )
    created = await campaign(admin, events=[soon], edges=[edge(None, soon)])
    # Scheduled before the real time, so that the steps are due for workers on the system clock.
    harness.clock.set(harness.clock.now().replace(year=2020))
    await admin.post(f"/api/v2/campaigns/{created['id']}/members", json={"contact_ids": people})

    # What a scheduler does in the distributed mode: hand the campaign to the workers, and
    # again on its next ticks (the same wake-up more than once must change nothing).
    backend = DramatiqBackend(
        make_broker(broker_url, namespace=namespace),
        harness.app.state.application.catalogue.jobs,
        namespace=namespace,
        dedupe_window_s=0,
    )
    harness.database.jobs = backend
    try:
        for _ in range(3):
            dispatched = await campaign_dispatch.dispatch(harness.database, now=harness.clock.now())
            assert dispatched == [created["id"]]
        deadline = time.monotonic() + 60
        points: list[int] = []
        while time.monotonic() < deadline:
            listed = (await admin.get("/api/v2/contacts", params={"page[size]": 100})).json()
            points = sorted(c["points"] for c in listed["data"])
            if points == [3] * 40:
                break
            await asyncio.sleep(0.3)
    finally:
        harness.database.jobs = harness.app.state.jobs
        await backend.stop()
        backend.broker.close()
    assert points == [3] * 40
    stats = (await admin.get(f"/api/v2/campaigns/{created['id']}/stats")).json()
    assert stats[soon["key"]]["done"] == 40
