"""Stages: their order, and assigning them to contacts."""

from __future__ import annotations

import httpx


async def test_stages_are_ordered_and_assignable(admin: httpx.AsyncClient) -> None:
    lead = (await admin.post("/api/v2/stages", json={"name": "Lead"})).json()
    customer = (await admin.post("/api/v2/stages", json={"name": "Customer"})).json()
    assert [s["name"] for s in (await admin.get("/api/v2/stages")).json()] == ["Lead", "Customer"]
    assert (await admin.post("/api/v2/stages", json={"name": "lead"})).status_code == 409
    contact = (
        await admin.post(
            "/api/v2/contacts", json={"email": "s@example.com", "stage_id": lead["id"]}
        )
    ).json()
    assert contact["stage_id"] == lead["id"]
    await admin.delete(f"/api/v2/stages/{lead['id']}")
    assert (await admin.get(f"/api/v2/contacts/{contact['id']}")).json()["stage_id"] is None
    assert customer["position"] == 1
