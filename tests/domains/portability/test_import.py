"""Import: analysis, apply with choices, the round trip into an empty instance, and undo."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import delete, func, select

from tests.domains.portability.helpers import ASSET_TEXT, build_world, manifest_of, upload, zip_of
from tests.fixtures.api import Harness
from trellis.db.base import Base
from trellis.db.models import CampaignImport

KEEP = {"users", "roles", "api_tokens", "user_sessions", "login_throttles", "alembic_version"}


async def wipe(harness: Harness) -> None:
    """Everything but the users: an empty instance to import into."""
    async with harness.database.unit_of_work() as session:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in KEEP:
                await session.execute(delete(table))


def without_time(manifest: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in manifest.items() if k != "exported_at"}


async def export(admin: httpx.AsyncClient, campaign_id: int) -> bytes:
    response = await admin.get(f"/api/v2/campaigns/{campaign_id}/export")
    assert response.status_code == 200, response.text
    return response.content


async def test_round_trip_into_an_empty_instance(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    world = await build_world(admin)
    published = await admin.post(f"/api/v2/campaigns/{world['campaign']['id']}/publish")
    assert published.status_code == 200, published.text
    first = await export(admin, world["campaign"]["id"])
    await wipe(harness)

    analysis = await upload(admin, first)
    assert analysis.status_code == 200, analysis.text
    assert {e["status"] for e in analysis.json()["entities"]} == {"new"}
    assert len(analysis.json()["entities"]) == 12
    applied = await upload(admin, first, mode="apply")

    assert applied.status_code == 200, applied.text
    result = applied.json()
    assert {k: len(v) for k, v in result["created"].items()} == {
        "project": 1,
        "stage": 1,
        "custom_field": 1,
        "email": 2,
        "segment": 2,
        "form": 1,
        "page": 1,
        "asset": 1,
        "campaign": 2,
    }
    (campaign_id,) = result["campaign_ids"]
    campaign = (await admin.get(f"/api/v2/campaigns/{campaign_id}")).json()
    assert campaign["is_published"] is False
    field = await admin.get("/api/v2/fields")
    assert "score" in {f["alias"] for f in field.json()}
    (asset_id,) = result["created"]["asset"]
    asset = (await admin.get(f"/api/v2/assets/{asset_id}")).json()
    assert asset["gate_form_id"] == result["created"]["form"][0]
    assert asset["size"] == len(ASSET_TEXT)
    second = await export(admin, campaign_id)
    assert without_time(manifest_of(second)) == without_time(manifest_of(first))
    # and it runs here: publishing it passes the campaign's validation
    live = await admin.post(f"/api/v2/campaigns/{campaign_id}/publish")
    assert live.status_code == 200, live.text


async def test_choices_reuse_copy_and_update_in_the_same_instance(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    world = await build_world(admin)
    body = await export(admin, world["campaign"]["id"])

    analysis = (await upload(admin, body)).json()
    assert {(e["status"], e["default"]) for e in analysis["entities"]} == {("identical", "reuse")}
    reused = (await upload(admin, body, mode="apply")).json()
    assert reused["created"] == {}
    assert reused["campaign_ids"] == [world["campaign"]["id"]]

    changed = await admin.patch(
        f"/api/v2/emails/{world['welcome']['id']}", json={"subject": "Changed here"}
    )
    assert changed.status_code == 200, changed.text
    analysis = (await upload(admin, body)).json()
    welcome = next(e for e in analysis["entities"] if e["name"] == "Welcome")
    assert welcome["status"] == "conflicting"
    assert welcome["match"] == "uuid"
    assert welcome["default"] == "copy"
    onboarding = next(e for e in analysis["entities"] if e["name"] == "Onboarding")
    assert onboarding["status"] == "identical"  # it names the email by uuid, unchanged

    copied = await upload(admin, body, mode="apply", choices={onboarding["uuid"]: "copy"})
    assert copied.status_code == 200, copied.text
    result = copied.json()
    assert set(result["created"]) == {"email", "campaign"}
    (new_email,) = result["created"]["email"]
    (new_campaign,) = result["campaign_ids"]
    assert new_campaign != world["campaign"]["id"]
    events = {
        e["key"]: e for e in (await admin.get(f"/api/v2/campaigns/{new_campaign}")).json()["events"]
    }
    assert events["send"]["config"]["email_id"] == new_email
    assert events["campaigns"]["config"]["add"] == [world["follow_up"]["id"]]
    assert events["c3"]["config"]["segments"] == [world["leads"]["id"]]
    copy = (await admin.get(f"/api/v2/emails/{new_email}")).json()
    assert copy["subject"] == "Welcome"

    updated = await upload(admin, body, mode="apply", choices={welcome["uuid"]: "update"})
    assert updated.status_code == 200, updated.text
    assert updated.json()["updated"] == {"email": [world["welcome"]["id"]]}
    original = (await admin.get(f"/api/v2/emails/{world['welcome']['id']}")).json()
    assert original["subject"] == "Welcome"

    refused = await upload(admin, body, mode="apply", choices={welcome["uuid"]: "create"})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["pointer"] == f"/choices/{welcome['uuid']}"


async def test_undo_removes_what_the_import_created_until_it_is_used(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    world = await build_world(admin)
    body = await export(admin, world["campaign"]["id"])
    await wipe(harness)
    first = (await upload(admin, body, mode="apply")).json()
    undone = await admin.post(f"/api/v2/campaigns/imports/{first['import_id']}/undo")
    assert undone.status_code == 200, undone.text
    assert undone.json()["undone_at"] is not None
    for campaign_id in first["created"]["campaign"]:
        assert (await admin.get(f"/api/v2/campaigns/{campaign_id}")).status_code == 404
    for email_id in first["created"]["email"]:
        assert (await admin.get(f"/api/v2/emails/{email_id}")).status_code == 404
    again = await admin.post(f"/api/v2/campaigns/imports/{first['import_id']}/undo")
    assert again.status_code == 409

    second = (await upload(admin, body, mode="apply")).json()
    (campaign_id,) = second["campaign_ids"]
    contact = await admin.post("/api/v2/contacts", json={"email": "ann@example.com"})
    added = await admin.post(
        f"/api/v2/campaigns/{campaign_id}/members", json={"contact_ids": [contact.json()["id"]]}
    )
    assert added.status_code == 200, added.text
    used = await admin.post(f"/api/v2/campaigns/imports/{second['import_id']}/undo")
    assert used.status_code == 409
    assert "campaign members" in used.json()["detail"]
    assert (await admin.get(f"/api/v2/campaigns/{campaign_id}")).status_code == 200
    audit = await admin.get("/api/v2/audit-log", params={"entity_type": "campaign_import"})
    assert audit.status_code == 200, audit.text
    actions = sorted(e["action"] for e in audit.json()["data"])
    assert actions == ["import", "import", "import_undone"]


async def import_count(harness: Harness) -> int:
    async with harness.database.unit_of_work(read_only=True) as session:
        return int(await session.scalar(select(func.count()).select_from(CampaignImport)) or 0)


async def test_a_failure_while_applying_writes_nothing(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    world = await build_world(admin)
    body = await export(admin, world["campaign"]["id"])
    await wipe(harness)
    document = manifest_of(body)
    del document["entities"]["custom_field"]  # "score" is named by the filters, not in the file
    broken = zip_of({"manifest.json": json.dumps(document)})

    response = await upload(admin, broken, mode="apply")

    assert response.status_code == 422, response.text
    pointers = [e["pointer"] for e in response.json()["errors"]]
    assert any(p.startswith("/entities/") and "/data/" in p for p in pointers), pointers
    assert (await admin.get("/api/v2/campaigns")).json()["data"] == []
    assert (await admin.get("/api/v2/emails")).json()["data"] == []
    assert await import_count(harness) == 0
