"""Fault injection on outside effects, with real `trellis worker` processes on PostgreSQL:
a worker killed mid-batch, its database connections terminated, a receiver failing then
recovering. Each asserts: every call made at least once, duplicates at most the calls in
flight at the fault, counters equal to the journal, and no transaction open across a call."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.domains.campaigns.helpers import campaign, contacts, edge, stats, step, trigger
from tests.domains.campaigns.test_effects import journal, wire  # noqa: F401 (fixture)
from tests.fixtures.api import Harness
from tests.fixtures.processes import read_until
from tests.fixtures.receiver import Receiver, receiver

CALLS_IN_FLIGHT = 5
LEASE_S = 10


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


BROKERS = [
    pytest.param({}, id="inline"),
    pytest.param(
        {
            "TRELLIS_JOBS__BACKEND": "dramatiq",
            "TRELLIS_JOBS__BROKER_URL": "redis://127.0.0.1:6379/0",
        },
        id="redis",
        marks=pytest.mark.skipif(not _listening(6379), reason="no Redis on 127.0.0.1:6379"),
    ),
    pytest.param(
        {
            "TRELLIS_JOBS__BACKEND": "dramatiq",
            "TRELLIS_JOBS__BROKER_URL": "amqp://guest:guest@127.0.0.1:5672/",
        },
        id="rabbitmq",
        marks=pytest.mark.skipif(not _listening(5672), reason="no RabbitMQ on 127.0.0.1:5672"),
    ),
]


@pytest.fixture
def postgres_only(harness: Harness) -> None:
    if harness.database.dialect != "postgresql":
        pytest.skip("worker processes share the database: PostgreSQL only (SQLite: one process)")


@pytest.fixture
async def workers(
    harness: Harness, tmp_path: Path
) -> AsyncIterator[Callable[[dict[str, str]], Any]]:
    """Start `trellis worker` processes on the test database; all are stopped at the end."""
    started: list[subprocess.Popen[bytes]] = []
    namespace = f"t{uuid.uuid4().hex[:10]}"

    async def start(extra: dict[str, str]) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "TRELLIS_DATA_DIR": str(tmp_path / f"worker{len(started)}"),
            "TRELLIS_DATABASE__URL": harness.settings.database_url,
            "TRELLIS_LOGGING__TO_FILE": "false",
            "TRELLIS_WEBHOOKS__ALLOW_PRIVATE": "true",
            "TRELLIS_CAMPAIGNS__LEASE_S": str(LEASE_S),
            "TRELLIS_CAMPAIGNS__CALLS_IN_FLIGHT": str(CALLS_IN_FLIGHT),
            "TRELLIS_JOBS__NAMESPACE": namespace,
            **extra,
        }
        process = subprocess.Popen(  # noqa: ASYNC220 - a real second process is the point
            [sys.executable, "-m", "trellis.cli.main", "worker"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        started.append(process)
        # Off the loop: the receiver runs on it and may be called before the banner.
        await asyncio.to_thread(read_until, process, "worker running")
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in started:
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


async def due_hook_campaign(
    harness: Harness, admin: httpx.AsyncClient, target: Receiver, count: int
) -> tuple[int, dict[str, Any], list[int]]:
    """A webhook step due now on the real clock for ``count`` contacts."""
    people = await contacts(admin, *({"email": f"f{i}@example.com"} for i in range(count)))
    hook = step(
        "webhook.send",
        {"url": target.url, "body": "{contactfield=email}"},
        name="Hook",
        timing={"mode": "interval", "amount": 1, "unit": "minute"},
    )
    created = await campaign(admin, events=[hook], edges=[edge(None, hook)])
    # Joined in 2020: the minute has long passed for a worker on the system clock.
    harness.clock.set(harness.clock.now().replace(year=2020))
    added = await admin.post(
        f"/api/v2/campaigns/{created['id']}/members", json={"contact_ids": people}
    )
    assert added.status_code == 200, added.text
    return int(created["id"]), hook, people


async def eventually(check: Callable[[], Any], *, within_s: float = 120) -> None:
    deadline = time.monotonic() + within_s
    while not await check():
        assert time.monotonic() < deadline, "the workers did not finish in time"
        await asyncio.sleep(0.3)


async def settled(
    harness: Harness, admin: httpx.AsyncClient, campaign_id: int, hook: dict[str, Any], count: int
) -> None:
    """Every step done, and the counters say what the journal says."""

    async def all_done() -> bool:
        return await journal(harness.database, campaign_id, hook["key"]) == {"done": count}

    await eventually(all_done)
    counted = (await stats(admin, campaign_id))[hook["key"]]
    assert (counted["scheduled"], counted["done"], counted["dead"]) == (0, count, 0)


async def idle_in_transaction(harness: Harness) -> int:
    async with harness.database.unit_of_work(read_only=True) as session:
        return int(
            await session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state LIKE 'idle in transaction%'"
                )
            )
            or 0
        )


@pytest.mark.postgres
@pytest.mark.parametrize("broker", BROKERS)
async def test_a_worker_killed_mid_batch_repeats_at_most_the_calls_in_flight(
    harness: Harness,
    admin: httpx.AsyncClient,
    postgres_only: None,
    workers: Any,
    broker: dict[str, str],
) -> None:
    async with receiver(delay_s=0.2) as target:
        campaign_id, hook, people = await due_hook_campaign(harness, admin, target, 40)
        first = await workers(broker)

        async def some_sent() -> bool:
            return len(target.keys) >= 10

        await eventually(some_sent)
        # Calls on the wire, held: the worker holds no transaction meanwhile.
        target.hold()
        await target.arrived.wait()
        assert await idle_in_transaction(harness) == 0
        first.send_signal(signal.SIGKILL)
        first.wait()
        target.release()
        await workers(broker)
        await settled(harness, admin, campaign_id, hook, len(people))
    assert len(target.accepted) == len(people)
    assert target.duplicates <= CALLS_IN_FLIGHT, target.accepted


@pytest.mark.postgres
async def test_terminated_worker_connections_repeat_at_most_the_calls_in_flight(
    harness: Harness, admin: httpx.AsyncClient, postgres_only: None, workers: Any
) -> None:
    terminations = 3
    async with receiver(delay_s=0.3) as target:
        campaign_id, hook, people = await due_hook_campaign(harness, admin, target, 40)
        await workers({})
        for _ in range(terminations):

            async def more_sent(seen: int = len(target.keys)) -> bool:
                return len(target.keys) > seen

            await eventually(more_sent)
            async with harness.database.unit_of_work(read_only=True) as session:
                await session.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
        await settled(harness, admin, campaign_id, hook, len(people))
    assert len(target.accepted) == len(people)
    assert target.duplicates <= CALLS_IN_FLIGHT * terminations, target.accepted


async def test_a_receiver_failing_then_recovering_gets_each_key_accepted_once(
    harness: Harness,
    admin: httpx.AsyncClient,
    wire: Any,  # noqa: F811
) -> None:
    wire(calls_in_flight=CALLS_IN_FLIGHT)
    async with receiver() as target:
        people = await contacts(admin, *({"email": f"r{i}@example.com"} for i in range(12)))
        hook = step("webhook.send", {"url": target.url}, name="Hook")
        created = await campaign(admin, events=[hook], edges=[edge(None, hook)])
        await admin.post(f"/api/v2/campaigns/{created['id']}/members", json={"contact_ids": people})
        target.failing = True
        await trigger(harness)
        assert await journal(harness.database, created["id"], hook["key"]) == {"scheduled": 12}
        target.failing = False
        await trigger(harness, harness.clock.now() + timedelta(minutes=2))
    assert set(target.keys.values()) == {2}
    assert set(target.accepted.values()) == {1}
    assert len(target.accepted) == 12
    counted = (await stats(admin, created["id"]))[hook["key"]]
    assert (counted["failed"], counted["done"], counted["scheduled"]) == (12, 12, 0)
    assert await journal(harness.database, created["id"], hook["key"]) == {"done": 12}
