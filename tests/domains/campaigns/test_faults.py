"""Failures, retries, crashes and concurrency: no step lost, none done twice."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.domains.campaigns.helpers import campaign, contacts, edge, journey, stats, step, trigger
from tests.fixtures.api import Harness
from trellis.db.session import Database, create_engine
from trellis.domains.campaigns.dispatch import campaign_dispatch
from trellis.domains.campaigns.service import EnginePolicy, campaign_service
from trellis.events.base import HttpResult
from trellis.runtime.journal import StatDeltas
from trellis.runtime.runner import RetryPolicy


class RecordingHttp:
    """Stands in for a third-party endpoint: answers with the statuses it is given."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.calls: list[Mapping[str, str]] = []

    async def send(
        self,
        *,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: str | None,
        timeout_s: float,
    ) -> HttpResult:
        self.calls.append(dict(headers))
        status = self.statuses.pop(0) if self.statuses else 200
        return HttpResult(status=status, error="" if status < 400 else f"answered {status}")

    async def aclose(self) -> None:
        return None


@pytest.fixture
def recording_http() -> Any:
    previous_http, previous_policy = campaign_service.http, campaign_service.policy
    yield lambda statuses: _install(statuses)
    campaign_service.configure(http=previous_http, policy=previous_policy)


def _install(statuses: list[int]) -> RecordingHttp:
    http = RecordingHttp(statuses)
    campaign_service.configure(
        http=http,
        policy=EnginePolicy(
            retry=RetryPolicy(max_attempts=3, first_delay_s=60), failure_min_volume=1000
        ),
    )
    return http


async def webhook_campaign(
    admin: httpx.AsyncClient, who: list[int]
) -> tuple[dict[str, Any], dict[str, Any]]:
    hook = step(
        "webhook.send",
        {
            "url": "https://hooks.example.test/in",
            "method": "POST",
            "body": '{"email": "{contactfield=email}"}',
        },
        name="Hook",
    )
    after = step("contact.change_tags", {"add": ["hooked"]}, name="After")
    created = await campaign(
        admin, events=[hook, after], edges=[edge(None, hook), edge(hook, after)]
    )
    await admin.post(f"/api/v2/campaigns/{created['id']}/members", json={"contact_ids": who})
    return created, hook


async def test_failures_retry_with_backoff_then_die_and_can_be_retried(
    harness: Harness, admin: httpx.AsyncClient, recording_http: Any
) -> None:
    http = recording_http([500, 503, 500, 200])
    (who,) = await contacts(admin, {"email": "f@example.com"})
    created, hook = await webhook_campaign(admin, [who])
    await trigger(harness)
    assert await journey(admin, created["id"], who) == [("Hook", "scheduled")]
    await trigger(harness, harness.clock.now() + timedelta(seconds=59))
    assert len(http.calls) == 1  # the first retry waits a minute
    await trigger(harness, harness.clock.now() + timedelta(seconds=2))
    await trigger(harness, harness.clock.now() + timedelta(minutes=3))
    assert len(http.calls) == 3
    assert await journey(admin, created["id"], who) == [("Hook", "dead")]
    counts = (await stats(admin, created["id"]))[hook["key"]]
    assert (counts["failed"], counts["dead"], counts["scheduled"]) == (3, 1, 0)
    # A person retries it; this time the endpoint answers 200 and the flow goes on.
    retried = await admin.post(f"/api/v2/campaigns/{created['id']}/retry-failed")
    assert retried.json() == {"retried": 1}
    await trigger(harness)
    assert await journey(admin, created["id"], who) == [("Hook", "done"), ("After", "done")]
    keys = {call["Idempotency-Key"] for call in http.calls}
    assert len(keys) == 1  # every attempt of the step carries the same key


async def test_a_crash_before_commit_loses_nothing_and_repeats_nothing(
    harness: Harness, admin: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    (who,) = await contacts(admin, {"email": "crash@example.com"})
    points = step(
        "contact.change_points",
        {"delta": 5},
        name="Points",
        timing={"mode": "interval", "amount": 1, "unit": "hour"},
    )
    created = await campaign(admin, events=[points], edges=[edge(None, points)])
    await admin.post(f"/api/v2/campaigns/{created['id']}/members", json={"contact_ids": [who]})
    original = StatDeltas.flush
    crashed = False

    async def die_once(self: StatDeltas, session: Any) -> None:
        nonlocal crashed
        if not crashed:
            crashed = True
            raise RuntimeError("worker killed")
        await original(self, session)

    monkeypatch.setattr(StatDeltas, "flush", die_once)
    with pytest.raises(RuntimeError, match="worker killed"):
        await trigger(harness, harness.clock.now() + timedelta(hours=2))
    # The action ran inside the transaction that died: nothing of it remains.
    assert (await admin.get(f"/api/v2/contacts/{who}")).json()["points"] == 0
    assert await journey(admin, created["id"], who) == [("Points", "scheduled")]
    await trigger(harness)
    await trigger(harness)
    assert (await admin.get(f"/api/v2/contacts/{who}")).json()["points"] == 5
    assert await journey(admin, created["id"], who) == [("Points", "done")]


async def test_a_webhook_interrupted_after_the_claim_reruns_with_the_same_key(
    harness: Harness, admin: httpx.AsyncClient, recording_http: Any
) -> None:
    http = recording_http([])
    (who,) = await contacts(admin, {"email": "lease@example.com"})
    created, hook = await webhook_campaign(admin, [who])

    async def hang(**_: Any) -> HttpResult:
        raise RuntimeError("process died during the call")

    http.send = hang  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        await trigger(harness)
    # The claim was committed before the call: the step is running, leased.
    assert await journey(admin, created["id"], who) == [("Hook", "running")]
    del http.send
    await trigger(harness, harness.clock.now() + timedelta(minutes=1))
    assert len(http.calls) == 0  # the lease has not expired yet
    await trigger(harness, harness.clock.now() + timedelta(minutes=10))
    assert len(http.calls) == 1
    assert http.calls[0]["Idempotency-Key"].startswith(
        f"trellis:{created['id']}:{hook['key']}:{who}:"
    )
    assert await journey(admin, created["id"], who) == [("Hook", "done"), ("After", "done")]


@pytest.mark.postgres
async def test_concurrent_workers_do_each_step_once(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    if harness.database.dialect != "postgresql":
        pytest.skip("SKIP LOCKED concurrency is a PostgreSQL feature; SQLite has one writer")
    people = await contacts(admin, *({"email": f"c{i}@example.com"} for i in range(60)))
    points = step(
        "contact.change_points",
        {"delta": 1},
        timing={"mode": "interval", "amount": 1, "unit": "hour"},
    )
    created = await campaign(admin, events=[points], edges=[edge(None, points)])
    await admin.post(f"/api/v2/campaigns/{created['id']}/members", json={"contact_ids": people})
    previous = campaign_service.policy
    campaign_service.configure(policy=EnginePolicy(batch_size=7))
    url = harness.database.engine.url.render_as_string(hide_password=False)
    workers = [Database(create_engine(url)) for _ in range(4)]
    try:
        later = harness.clock.now() + timedelta(hours=2)
        await asyncio.gather(*(campaign_dispatch.trigger(w, now=later) for w in workers))
    finally:
        campaign_service.configure(policy=previous)
        for worker in workers:
            await worker.dispose()
    listed = (await admin.get("/api/v2/contacts", params={"page[size]": 100})).json()["data"]
    assert sorted(c["points"] for c in listed) == [1] * 60
    assert (await stats(admin, created["id"]))[points["key"]]["done"] == 60


async def test_the_failure_guard_pauses_a_failing_campaign(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    http = _install([500] * 100)
    campaign_service.configure(
        policy=EnginePolicy(
            retry=RetryPolicy(max_attempts=1), failure_rate=0.5, failure_min_volume=4
        )
    )
    try:
        people = await contacts(admin, *({"email": f"g{i}@example.com"} for i in range(4)))
        created, _ = await webhook_campaign(admin, people)
        await trigger(harness)
    finally:
        campaign_service.configure(policy=EnginePolicy())
    assert len(http.calls) == 4
    reread = (await admin.get(f"/api/v2/campaigns/{created['id']}")).json()
    assert reread["is_published"] is False
    assert reread["paused_reason"].startswith("Paused: 4 of 4 steps failed for good")
    entries = (
        await admin.get(
            "/api/v2/audit-log",
            params={"entity_type": "campaign", "entity_id": created["id"], "action": "unpublish"},
        )
    ).json()
    assert entries["data"][0]["actor_name"] == "failure guard"
    # The owner (the administrator who created it) hears of it, with a link to the campaign.
    inbox = (await admin.get("/api/v2/notifications", params={"unread": "true"})).json()
    assert inbox["meta"]["total"] == 1
    note = inbox["data"][0]
    assert note["kind"] == "campaign.paused"
    assert note["link"] == f"/campaigns/{created['id']}"
    assert note["body"] == reread["paused_reason"]
    read = await admin.post(f"/api/v2/notifications/{note['id']}/read")
    assert read.json() == {"marked": 1}
    assert (await admin.get("/api/v2/notifications", params={"unread": "true"})).json()["meta"][
        "total"
    ] == 0
    assert (await admin.post("/api/v2/notifications/read-all")).json() == {"marked": 0}
    assert (await admin.post("/api/v2/notifications/999999/read")).status_code == 404
