"""Export: the manifest holds the campaigns and everything they reference, by uuid, and no
personal data."""

from __future__ import annotations

import io
import zipfile

import httpx

from tests.domains.campaigns.helpers import edge, step
from tests.domains.portability.helpers import ASSET_TEXT, build_world, manifest_of


async def test_export_holds_every_dependency_by_uuid_and_no_contact(
    admin: httpx.AsyncClient,
) -> None:
    world = await build_world(admin)
    contact = await admin.post(
        "/api/v2/contacts", json={"email": "secret.person@example.org", "first_name": "Zelda"}
    )
    assert contact.status_code == 201, contact.text

    response = await admin.get(f"/api/v2/campaigns/{world['campaign']['id']}/export")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        everything = b"".join(archive.read(n) for n in archive.namelist())
    assert b"secret.person@example.org" not in everything
    assert b"Zelda" not in everything
    manifest = manifest_of(response.content)
    assert manifest["format_version"] == 1
    names = {kind: sorted(e["name"] for e in items) for kind, items in manifest["entities"].items()}
    assert names == {
        "asset": ["Price list"],
        "campaign": ["Follow-up", "Onboarding"],
        "custom_field": ["score"],
        "email": ["Thanks", "Welcome"],
        "form": ["Newsletter"],
        "page": ["Spring offer"],
        "project": ["Spring launch"],
        "segment": ["Everyone", "Warm leads"],
        "stage": ["Lead"],
    }
    uuids = {e["name"]: e["uuid"] for items in manifest["entities"].values() for e in items}
    onboarding = next(e for e in manifest["entities"]["campaign"] if e["name"] == "Onboarding")
    events = {e["key"]: e for e in onboarding["data"]["events"]}
    assert events["send"]["config"]["email_id"] == uuids["Welcome"]
    assert events["campaigns"]["config"]["add"] == [uuids["Follow-up"]]
    sources = {s["kind"]: s["id"] for s in onboarding["data"]["sources"]}
    assert sources == {"segment": uuids["Warm leads"], "form": uuids["Newsletter"]}
    assert onboarding["data"]["projects"] == [uuids["Spring launch"]]
    leads = next(e for e in manifest["entities"]["segment"] if e["name"] == "Warm leads")
    assert leads["data"]["filters"]["conditions"][0]["value"] == [uuids["Everyone"]]
    form = manifest["entities"]["form"][0]
    assert form["data"]["actions"][2]["config"]["campaigns"] == [uuids["Follow-up"]]
    assert manifest["campaigns"] == [uuids["Onboarding"]]
    asset = manifest["entities"]["asset"][0]
    assert asset["data"]["gate_form_id"] == uuids["Newsletter"]
    assert events["downloaded"]["config"]["assets"] == [uuids["Price list"]]
    assert events["hit"]["config"]["landing_pages"] == [uuids["Spring offer"]]
    assert manifest["warnings"] == []
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.read(f"files/{asset['data']['file']}") == ASSET_TEXT


async def test_bulk_export_and_unknown_campaign(admin: httpx.AsyncClient) -> None:
    world = await build_world(admin)
    ids = [world["campaign"]["id"], world["follow_up"]["id"]]
    response = await admin.post("/api/v2/campaigns/export", json={"campaign_ids": ids})
    assert response.status_code == 200, response.text
    assert len(manifest_of(response.content)["campaigns"]) == 2
    audit = await admin.get("/api/v2/audit-log", params={"action": "export"})
    assert sorted(e["entity_id"] for e in audit.json()["data"]) == sorted(ids)

    missing = await admin.get("/api/v2/campaigns/999999/export")
    assert missing.status_code == 404
    empty = await admin.post("/api/v2/campaigns/export", json={"campaign_ids": []})
    assert empty.status_code == 422
    assert empty.json()["errors"][0]["pointer"] == "/campaign_ids"


async def test_users_are_left_out_with_a_warning(admin: httpx.AsyncClient) -> None:
    me = (await admin.get("/api/v2/auth/me")).json()
    email = await admin.post(
        "/api/v2/emails",
        json={"name": "Alert", "subject": "New lead", "body": "<p>x</p>", "body_format": "html"},
    )
    assert email.status_code == 201, email.text
    notify = step(
        "email.send_to_user",
        {"email_id": email.json()["id"], "user_ids": [me["user"]["id"]], "to_owner": False},
        key="notify",
    )
    created = await admin.post(
        "/api/v2/campaigns",
        json={"name": "Alerts", "events": [notify], "edges": [edge(None, notify)]},
    )
    assert created.status_code == 201, created.text

    response = await admin.get(f"/api/v2/campaigns/{created.json()['id']}/export")

    manifest = manifest_of(response.content)
    (event,) = manifest["entities"]["campaign"][0]["data"]["events"]
    assert event["config"]["user_ids"] == []
    assert event["config"]["email_id"] == manifest["entities"]["email"][0]["uuid"]
    assert len(manifest["warnings"]) == 1
    assert "user" in manifest["warnings"][0]
    assert "/events/0/config/user_ids/0" in manifest["warnings"][0]
