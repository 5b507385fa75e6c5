"""Outside effects exactly once (ADR 0016): webhook calls against a real receiver.

A slow receiver with a short lease, a second worker looking for expired leases, a claim taken
over while its calls are on the wire, and what the database holds while they are.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from tests.domains.campaigns.helpers import campaign, contacts, edge, stats, step, trigger
from tests.fixtures.api import Harness
from tests.fixtures.receiver import Receiver, receiver
from trellis.db.models import EventLog
from trellis.db.session import Database, create_engine
from trellis.domains.campaigns.dispatch import campaign_dispatch
from trellis.domains.campaigns.service import EnginePolicy, campaign_service
from trellis.runtime.http import GuardedHttp
from trellis.runtime.journal import Status, expired_leases


@pytest.fixture
async def wire() -> AsyncIterator[Any]:
    """Real outgoing HTTP (loopback allowed) and an engine policy of the test's choosing."""
    previous_http, previous_policy = campaign_service.http, campaign_service.policy
    http = GuardedHttp(allow_private=True)
    campaign_service.configure(http=http)

    def policy(**settings: Any) -> None:
        campaign_service.configure(policy=EnginePolicy(failure_min_volume=10_000, **settings))

    yield policy
    campaign_service.configure(http=previous_http, policy=previous_policy)
    await http.aclose()


async def hook_campaign(
    admin: httpx.AsyncClient, target: Receiver, people: list[int]
) -> tuple[int, dict[str, Any]]:
    hook = step("webhook.send", {"url": target.url, "body": "{contactfield=email}"}, name="Hook")
    after = step("contact.change_tags", {"add": ["hooked"]}, name="After")
    created = await campaign(
        admin, events=[hook, after], edges=[edge(None, hook), edge(hook, after)]
    )
    added = await admin.post(
        f"/api/v2/campaigns/{created['id']}/members", json={"contact_ids": people}
    )
    assert added.status_code == 200, added.text
    return int(created["id"]), hook


async def journal(database: Database, campaign_id: int, event_key: str) -> dict[str, int]:
    """The hook step's rows by status, counted in the journal itself."""
    async with database.unit_of_work(read_only=True) as session:
        rows = await session.execute(
            text(
                "SELECT l.status, count(*) FROM campaign_event_log l "
                "JOIN campaign_events e ON e.id = l.event_id "
                "WHERE e.campaign_id = :campaign AND e.uuid = :key GROUP BY l.status"
            ),
            {"campaign": campaign_id, "key": event_key},
        )
        return {Status(status).name.lower(): int(count) for status, count in rows.all()}


async def assert_counters_match_the_journal(
    harness: Harness, admin: httpx.AsyncClient, campaign_id: int, hook: dict[str, Any]
) -> dict[str, int]:
    counted = (await stats(admin, campaign_id))[hook["key"]]
    rows = await journal(harness.database, campaign_id, hook["key"])
    for name in ("scheduled", "done", "dead"):
        assert counted[name] == rows.get(name, 0), (name, counted, rows)
    return rows


async def people(admin: httpx.AsyncClient, count: int, prefix: str) -> list[int]:
    return await contacts(admin, *({"email": f"{prefix}{i}@example.com"} for i in range(count)))


async def test_a_slow_receiver_gets_each_key_once_while_a_second_worker_hunts_expired_leases(
    harness: Harness, admin: httpx.AsyncClient, wire: Any
) -> None:
    # Every call takes longer than the whole lease: only renewal keeps the claim.
    wire(lease_s=1, calls_in_flight=4)
    async with receiver(delay_s=1.5) as target:
        who = await people(admin, 10, "slow")
        campaign_id, hook = await hook_campaign(admin, target, who)
        url = harness.database.engine.url.render_as_string(hide_password=False)
        other = Database(create_engine(url))
        start, began = harness.clock.now(), time.monotonic()
        working = asyncio.create_task(campaign_dispatch.trigger(harness.database, now=start))
        try:
            while not working.done():
                # A second worker on the real clock: anything whose lease ran out, it takes.
                later = start + timedelta(seconds=time.monotonic() - began)
                await campaign_dispatch.trigger(other, now=later)
                await asyncio.sleep(0.3)
            await working
        finally:
            await other.dispose()
        assert len(target.keys) == 10
        assert set(target.keys.values()) == {1}, target.keys
        assert target.max_in_flight <= 4
    rows = await assert_counters_match_the_journal(harness, admin, campaign_id, hook)
    assert rows == {"done": 10}


async def test_counters_equal_the_journal_after_a_lease_recovery(
    harness: Harness, admin: httpx.AsyncClient, wire: Any
) -> None:
    wire(calls_in_flight=3)
    async with receiver() as target:
        who = await people(admin, 7, "lost")
        campaign_id, hook = await hook_campaign(admin, target, who)
        target.hold()
        # The worker dies while its first window of calls is on the wire.
        working = asyncio.create_task(trigger(harness))
        await target.arrived.wait()
        working.cancel()
        with pytest.raises(asyncio.CancelledError):
            await working
        target.release()
        rows = await assert_counters_match_the_journal(harness, admin, campaign_id, hook)
        assert rows == {"running": 7}
        # The lease runs out; the next pass gives the steps back and runs them.
        await trigger(harness, harness.clock.now() + timedelta(minutes=10))
        rows = await assert_counters_match_the_journal(harness, admin, campaign_id, hook)
        assert rows == {"done": 7}
        assert set(target.accepted) == set(target.keys)
        assert len(target.keys) == 7
        # Repeated: at most the calls that were on the wire when it died.
        assert target.duplicates <= 3


async def test_a_claim_taken_over_mid_call_loses_cleanly(
    harness: Harness, admin: httpx.AsyncClient, wire: Any
) -> None:
    wire(calls_in_flight=5)
    async with receiver() as target:
        who = await people(admin, 5, "taken")
        campaign_id, hook = await hook_campaign(admin, target, who)
        target.hold()
        working = asyncio.create_task(trigger(harness))
        await target.arrived.wait()
        # Another process decides the lease ran out (say this worker lost the database for
        # longer than the lease) and gives the steps back.
        taken_over = harness.clock.now() + timedelta(hours=1)
        async with harness.database.unit_of_work() as session:
            assert await expired_leases(session, now=taken_over) == 5
        target.release()
        await working
        # The old holder's results were refused: nothing finished, nothing went on.
        rows = await assert_counters_match_the_journal(harness, admin, campaign_id, hook)
        assert rows == {"scheduled": 5}
        await trigger(harness, harness.clock.now() + timedelta(hours=1))
        rows = await assert_counters_match_the_journal(harness, admin, campaign_id, hook)
        assert rows == {"done": 5}
        assert set(target.keys.values()) == {2}
        tagged = (await admin.get("/api/v2/contacts", params={"page[size]": 50})).json()["data"]
        assert sorted(c["tags"] for c in tagged if c["id"] in who) == [["hooked"]] * 5


async def test_no_transaction_is_open_while_calls_are_on_the_wire(
    harness: Harness, admin: httpx.AsyncClient, wire: Any
) -> None:
    wire(calls_in_flight=2)
    async with receiver() as target:
        who = await people(admin, 4, "wire")
        campaign_id, hook = await hook_campaign(admin, target, who)
        target.hold()
        working = asyncio.create_task(trigger(harness))
        try:
            await target.arrived.wait()
            if harness.database.dialect == "postgresql":
                async with harness.database.unit_of_work(read_only=True) as session:
                    idle = await session.scalar(
                        text(
                            "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                            "current_database() AND state LIKE 'idle in transaction%'"
                        )
                    )
                assert idle == 0
            # On SQLite a transaction held across the call would hold the write lock: this
            # write would wait for the receiver, which waits for this write.
            created = await asyncio.wait_for(
                admin.post("/api/v2/contacts", json={"email": "meanwhile@example.com"}),
                timeout=60,
            )
            assert created.status_code == 201, created.text
            async with harness.database.unit_of_work(read_only=True) as session:
                attempted = await session.scalar(
                    select(func.count()).where(
                        EventLog.campaign_id == campaign_id, EventLog.attempted_at.is_not(None)
                    )
                )
            # The intent of the calls on the wire was committed before they left.
            assert attempted == 2
        finally:
            target.release()
            await working
    rows = await assert_counters_match_the_journal(harness, admin, campaign_id, hook)
    assert rows == {"done": 4}
    assert sorted(target.keys.values()) == [1, 1, 1, 1]
