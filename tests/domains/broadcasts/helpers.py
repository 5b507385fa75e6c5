"""Broadcasts built through the API and advanced the way the background service does."""

from __future__ import annotations

from typing import Any

import httpx

from tests.domains.emails.helpers import MJML
from tests.fixtures.api import Harness
from trellis.domains.broadcasts.schemas import BroadcastRunRead
from trellis.domains.broadcasts.service import broadcast_service
from trellis.domains.emails import tasks as email_tasks
from trellis.jobs.registry import JobContext


async def broadcast_email(admin: httpx.AsyncClient, name: str = "News") -> dict[str, Any]:
    response = await admin.post(
        "/api/v2/emails",
        json={
            "name": name,
            "kind": "broadcast",
            "subject": f"{name} for {{contactfield=first_name|you}}",
            "body": MJML,
            "is_published": True,
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def people(admin: httpx.AsyncClient, *names: str) -> dict[str, int]:
    ids = {}
    for name in names:
        response = await admin.post(
            "/api/v2/contacts",
            json={"email": f"{name}@example.com", "first_name": name.title()},
        )
        assert response.status_code == 201, response.text
        ids[name] = int(response.json()["id"])
    return ids


async def segment(admin: httpx.AsyncClient, name: str, members: list[int]) -> int:
    """A segment whose filter matches nobody: its members are the ones added by hand."""
    created = await admin.post(
        "/api/v2/segments",
        json={
            "name": name,
            "filters": {
                "match": "all",
                "conditions": [
                    {
                        "type": "field",
                        "field": "city",
                        "operator": "=",
                        "value": "Nowhere-at-all",
                    }
                ],
            },
        },
    )
    assert created.status_code == 201, created.text
    segment_id = int(created.json()["id"])
    if members:
        await join(admin, segment_id, members)
    return segment_id


async def join(admin: httpx.AsyncClient, segment_id: int, members: list[int]) -> None:
    added = await admin.post(
        f"/api/v2/segments/{segment_id}/members", json={"contact_ids": members}
    )
    assert added.status_code == 200, added.text


async def create(admin: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await admin.post("/api/v2/broadcasts", json={"name": "Spring news", **fields})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def schedule(admin: httpx.AsyncClient, broadcast_id: int) -> dict[str, Any]:
    response = await admin.post(f"/api/v2/broadcasts/{broadcast_id}/schedule")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def get(admin: httpx.AsyncClient, broadcast_id: int) -> dict[str, Any]:
    response = await admin.get(f"/api/v2/broadcasts/{broadcast_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def run(harness: Harness, *, deliver: bool = True) -> BroadcastRunRead:
    """One pass of the broadcasts service, then of delivery, then one more pass (which marks
    finished broadcasts sent), at the harness clock's time."""
    now = harness.clock.now()
    summary = await broadcast_service.run_due(harness.database, now=now)
    if deliver:
        await harness.app.state.jobs.drain()
        await email_tasks.deliver(JobContext(database=harness.database, clock=harness.clock), {})
        again = await broadcast_service.run_due(harness.database, now=now)
        summary.queued += again.queued
        summary.skipped += again.skipped
        summary.added += again.added
        summary.finished += again.finished
    return summary


async def outbox(admin: httpx.AsyncClient) -> list[str]:
    """The recipient of every message the outbox transport kept, sorted."""
    response = await admin.get("/api/v2/outbox", params={"page[size]": 500})
    assert response.status_code == 200, response.text
    return sorted(r for item in response.json()["data"] for r in item["recipients"])


async def recipients(admin: httpx.AsyncClient, broadcast_id: int) -> dict[int, dict[str, Any]]:
    response = await admin.get(
        f"/api/v2/broadcasts/{broadcast_id}/recipients", params={"page[size]": 500}
    )
    assert response.status_code == 200, response.text
    return {r["contact_id"]: r for r in response.json()["data"]}
