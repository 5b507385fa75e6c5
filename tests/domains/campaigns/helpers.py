"""Building campaigns and running them the way a user would: the API and the trigger."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx

from tests.fixtures.api import Harness
from trellis.domains.campaigns.dispatch import campaign_dispatch
from trellis.domains.campaigns.schemas import TriggerSummary


def step(
    type_: str,
    config: dict[str, Any] | None = None,
    *,
    key: str | None = None,
    timing: dict[str, Any] | None = None,
    name: str = "",
) -> dict[str, Any]:
    return {
        "key": key or uuid.uuid4().hex[:12],
        "type": type_,
        "config": config or {},
        "timing": timing or {"mode": "immediate"},
        "name": name,
    }


def edge(
    source: dict[str, Any] | None, target: dict[str, Any], path: str | None = None
) -> dict[str, Any]:
    return {"source": source["key"] if source else None, "target": target["key"], "path": path}


async def contacts(admin: httpx.AsyncClient, *people: dict[str, Any]) -> list[int]:
    ids = []
    for person in people:
        response = await admin.post("/api/v2/contacts", json=person)
        assert response.status_code == 201, response.text
        ids.append(int(response.json()["id"]))
    return ids


async def segment(admin: httpx.AsyncClient, name: str, conditions: list[dict[str, Any]]) -> int:
    response = await admin.post(
        "/api/v2/segments",
        json={"name": name, "filters": {"match": "all", "conditions": conditions}},
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def campaign(
    admin: httpx.AsyncClient,
    *,
    events: list[dict[str, Any]],
    edges: list[dict[str, Any]],
    sources: list[dict[str, Any]] | None = None,
    publish: bool = True,
    **settings: Any,
) -> dict[str, Any]:
    response = await admin.post(
        "/api/v2/campaigns",
        json={
            "name": settings.pop("name", "Journey"),
            "events": events,
            "edges": edges,
            "sources": sources or [],
            **settings,
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    if publish:
        published = await admin.post(f"/api/v2/campaigns/{body['id']}/publish")
        assert published.status_code == 200, published.text
        body = published.json()
    return dict(body)


async def trigger(harness: Harness, at: datetime | None = None) -> TriggerSummary:
    if at is not None:
        harness.clock.set(at)
    # Segments rebuild first, as the service loop does, then the campaigns run.
    await admin_rebuild(harness)
    return await campaign_dispatch.trigger(harness.database, now=harness.clock.now())


async def admin_rebuild(harness: Harness) -> None:
    from trellis.domains.segments import tasks as segment_tasks
    from trellis.jobs.registry import JobContext

    context = JobContext(database=harness.database, clock=harness.clock)
    await segment_tasks.rebuild_all_published(context, {})


async def journey(
    admin: httpx.AsyncClient, campaign_id: int, contact_id: int
) -> list[tuple[str, str]]:
    response = await admin.get(f"/api/v2/campaigns/{campaign_id}/contacts/{contact_id}/journey")
    assert response.status_code == 200, response.text
    return [(s["event_name"] or s["type"], s["status"]) for s in response.json()["steps"]]


async def stats(admin: httpx.AsyncClient, campaign_id: int) -> dict[str, dict[str, int]]:
    response = await admin.get(f"/api/v2/campaigns/{campaign_id}/stats")
    assert response.status_code == 200
    return dict(response.json())
