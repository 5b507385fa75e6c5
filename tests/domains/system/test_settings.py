"""Instance settings and system information."""

from __future__ import annotations

import httpx

from tests.fixtures.api import Harness


async def test_instance_settings_are_admin_editable_and_audited(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    assert (await admin.get("/api/v2/settings")).json()["instance_name"] == "Trellis"
    response = await admin.patch(
        "/api/v2/settings", json={"instance_name": "Acme", "default_timezone": "Europe/Berlin"}
    )
    assert response.json()["default_timezone"] == "Europe/Berlin"
    bad = await admin.patch("/api/v2/settings", json={"default_timezone": "Nowhere/City"})
    assert bad.status_code == 422
    entries = (await admin.get("/api/v2/audit-log", params={"entity_type": "settings"})).json()
    assert entries["data"][0]["changes"]["instance_name"] == {"old": "Trellis", "new": "Acme"}
    system = (await admin.get("/api/v2/system")).json()
    assert system["database"] in {"sqlite", "postgresql"}
    async with await harness.client_as("m@example.com", role="Marketer") as marketer:
        assert (await marketer.get("/api/v2/settings")).status_code == 200
        denied = await marketer.patch("/api/v2/settings", json={"instance_name": "Mine"})
        assert denied.status_code == 403


async def test_settings_tell_the_ui_where_links_point(admin: httpx.AsyncClient) -> None:
    # The harness configures http://testserver; the UI compares it with its own address.
    body = (await admin.get("/api/v2/settings")).json()
    assert body["base_url"] == "http://testserver"
    changed = await admin.patch("/api/v2/settings", json={"instance_name": "Acme"})
    assert changed.json()["base_url"] == "http://testserver"
