"""Work shared, not raced (ADR 0016): one dispatcher per campaign, a distributed intake cut into
claimed ranges, due steps shared through doorbells that other workers answer."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.domains.campaigns.helpers import (
    admin_rebuild,
    campaign,
    contacts,
    edge,
    segment,
    stats,
    step,
)
from tests.fixtures.api import Harness
from trellis.db.models import CampaignIntakeRange, CampaignLease
from trellis.db.session import Database, create_engine
from trellis.domains.campaigns.dispatch import INTAKE_JOB, STEPS_JOB, campaign_dispatch
from trellis.domains.campaigns.service import EnginePolicy, campaign_service
from trellis.jobs.base import PendingJob


class Doorbells:
    """A distributed job backend that only records what it is asked to ring."""

    distributed = True

    def __init__(self) -> None:
        self.rung: list[PendingJob] = []

    async def enqueue(self, job: PendingJob) -> None:
        self.rung.append(job)

    def count(self, name: str) -> int:
        return sum(1 for job in self.rung if job.name == name)


@pytest.fixture
def doorbells(harness: Harness) -> Iterator[Doorbells]:
    previous_jobs, previous_policy = harness.database.jobs, campaign_service.policy
    bells = Doorbells()
    harness.database.jobs = bells  # type: ignore[assignment]
    campaign_service.configure(policy=EnginePolicy(batch_size=7))
    yield bells
    harness.database.jobs = previous_jobs
    campaign_service.configure(policy=previous_policy)


async def segment_campaign(admin: httpx.AsyncClient, harness: Harness, count: int) -> Any:
    await contacts(
        admin, *({"email": f"s{i}@example.com", "last_name": "Shared"} for i in range(count))
    )
    audience = await segment(
        admin,
        "Shared",
        [{"type": "field", "field": "last_name", "operator": "=", "value": "Shared"}],
    )
    await admin_rebuild(harness)
    points = step("contact.change_points", {"delta": 1}, name="Points")
    later = step(
        "contact.change_tags",
        {"add": ["later"]},
        name="Later",
        timing={"mode": "interval", "amount": 1, "unit": "hour"},
    )
    created = await campaign(
        admin,
        events=[points, later],
        edges=[edge(None, points), edge(points, later)],
        sources=[{"kind": "segment", "id": audience}],
    )
    return created, points, later


async def count_rows(harness: Harness, model: Any) -> int:
    async with harness.database.unit_of_work(read_only=True) as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_distributed_dispatcher_shares_intake_and_due_steps(
    harness: Harness, admin: httpx.AsyncClient, doorbells: Doorbells
) -> None:
    created, points, later = await segment_campaign(admin, harness, 40)
    summary = await campaign_dispatch.trigger(harness.database, now=harness.clock.now())
    assert summary.joined == 40
    counted = await stats(admin, created["id"])
    assert (counted[points["key"]]["done"], counted[later["key"]]["scheduled"]) == (40, 40)
    if harness.database.dialect == "postgresql":
        # Cut into ranges of one batch (7): every other worker was rung to take a share.
        assert doorbells.count(INTAKE_JOB) >= 4
    # Ranges and the lease are gone once the dispatcher is done.
    assert await count_rows(harness, CampaignIntakeRange) == 0
    assert await count_rows(harness, CampaignLease) == 0
    # An hour later, 40 steps are due, 6 batches: the dispatcher rings for 5 helpers. One
    # helper answering first takes every batch; the dispatcher then finds nothing left.
    later_on = harness.clock.now() + timedelta(hours=2)
    helped = await campaign_dispatch.help_with_steps(harness.database, created["id"], now=later_on)
    assert helped == 40
    summary = await campaign_dispatch.trigger(harness.database, now=later_on)
    assert summary.executed == 0
    counted = await stats(admin, created["id"])
    assert (counted[later["key"]]["done"], counted[later["key"]]["scheduled"]) == (40, 0)


async def test_due_steps_ring_helpers_when_more_than_a_batch_is_due(
    harness: Harness, admin: httpx.AsyncClient, doorbells: Doorbells
) -> None:
    created, _, later = await segment_campaign(admin, harness, 20)
    await campaign_dispatch.trigger(harness.database, now=harness.clock.now())
    summary = await campaign_dispatch.trigger(
        harness.database, now=harness.clock.now() + timedelta(hours=2)
    )
    assert summary.executed == 20
    assert doorbells.count(STEPS_JOB) == 2  # 20 due in batches of 7: 3 batches, 2 helpers
    assert (await stats(admin, created["id"]))[later["key"]]["done"] == 20


@pytest.mark.postgres
async def test_one_dispatcher_per_campaign_among_concurrent_workers(
    harness: Harness, admin: httpx.AsyncClient, doorbells: Doorbells
) -> None:
    if harness.database.dialect != "postgresql":
        pytest.skip("concurrent processes on one database: PostgreSQL")
    created, points, _ = await segment_campaign(admin, harness, 30)
    url = harness.database.engine.url.render_as_string(hide_password=False)
    others = [Database(create_engine(url)) for _ in range(4)]
    for other in others:
        other.jobs = doorbells  # type: ignore[assignment]
    try:
        summaries = await asyncio.gather(
            *(campaign_dispatch.trigger(o, now=harness.clock.now()) for o in others)
        )
    finally:
        for other in others:
            await other.dispose()
    # Each took the campaign or left it to the one that did; together, everyone once.
    assert sum(s.joined for s in summaries) == 30
    assert (await stats(admin, created["id"]))[points["key"]]["done"] == 30
    listed = (await admin.get("/api/v2/contacts", params={"page[size]": 100})).json()["data"]
    assert sorted(c["points"] for c in listed) == [1] * 30
