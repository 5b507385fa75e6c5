"""Import from Mautic 7: the hand-written export in tests/fixtures/mautic (a campaign with two
emails, a form with fields and actions, segments with filters, decisions with one or no path, a
condition, a jump, delays with sending hours, an asset) imports through the API into a campaign
that runs; what cannot be translated is reported; bad files are refused with nothing written."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
from sqlalchemy import func, select

from tests.domains.broadcasts.helpers import outbox
from tests.domains.campaigns.helpers import trigger
from tests.domains.emails.helpers import deliver
from tests.domains.forms.helpers import submit
from tests.domains.portability.helpers import (
    MAUTIC_ASSET,
    MAUTIC_FIXTURE,
    mautic_document,
    mautic_zip,
    upload,
    zip_of,
)
from tests.fixtures.api import Harness
from trellis.db.models import CampaignImport

CAMPAIGN = "0b6c1d7e-3f52-4c8a-9d2e-5a1b7c3e9f01"
WELCOME = "7e1d2c3b-4a59-4f60-8b71-2c3d4e5f6a07"


def key(mautic_id: int) -> str:
    """Our step key of a Mautic event of the fixture (its uuid)."""
    return f"5c2f0a41-7d3e-4b19-8e6a-0f4c2b9d1a{mautic_id}"


async def nothing_written(harness: Harness, admin: httpx.AsyncClient) -> None:
    for kind in ("campaigns", "emails", "segments", "forms", "assets", "pages"):
        listed = await admin.get(f"/api/v2/{kind}")
        assert listed.status_code == 200, listed.text
        assert listed.json()["data"] == [], kind
    async with harness.database.unit_of_work(read_only=True) as session:
        count = await session.scalar(select(func.count()).select_from(CampaignImport))
    assert count == 0


async def test_the_fixture_imports_into_a_campaign_that_runs(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    body = mautic_zip()

    analysis = await upload(admin, body)

    assert analysis.status_code == 200, analysis.text
    report = analysis.json()
    assert report["source"] == "mautic"
    assert report["campaigns"] == [CAMPAIGN]
    assert {e["status"] for e in report["entities"]} == {"new"}
    kinds: dict[str, int] = {}
    for entity in report["entities"]:
        kinds[entity["kind"]] = kinds.get(entity["kind"], 0) + 1
    assert kinds == {
        "custom_field": 1,
        "email": 2,
        "segment": 2,
        "form": 1,
        "page": 1,
        "asset": 1,
        "campaign": 1,
    }
    notes = {n["path"]: n for n in report["notes"]}
    # The parts of the fixture that have no equivalent here, put there on purpose.
    assert notes["/0/campaign_event/11/type"]["name"] == "Push to CRM"
    assert "plugin.leadpush" in notes["/0/campaign_event/11/type"]["message"]
    assert notes["/0/email/0/custom_html"]["entity"] == "email"
    assert "Dynamic Content 1" in notes["/0/email/0/custom_html"]["message"]
    assert notes["/0/dynamicContent/0"]["entity"] == "dynamicContent"
    assert "owner_id" in notes["/0/lists/1/filters/1/field"]["message"]
    assert "form.repost" in notes["/0/form_action/1/type"]["message"]
    assert len(notes) == 5

    applied = await upload(admin, body, mode="apply")

    assert applied.status_code == 200, applied.text
    result = applied.json()
    assert result["source"] == "mautic"
    assert len(result["notes"]) == 5
    assert {k: len(v) for k, v in result["created"].items()} == kinds
    (campaign_id,) = result["campaign_ids"]
    campaign = (await admin.get(f"/api/v2/campaigns/{campaign_id}")).json()
    assert campaign["is_published"] is False
    assert campaign["uuid"] == CAMPAIGN
    assert campaign["description"] == "Welcome, nudge and follow-up for trial users"
    steps = {e["key"]: e for e in campaign["events"]}
    assert key(52) not in steps  # the CRM push: a leaf, left out
    assert {k: steps[k]["type"] for k in (key(41), key(42), key(45), key(47), key(48))} == {
        key(41): "email.send",
        key(42): "email.open",
        key(45): "contact.field_value",
        key(47): "campaign.jump_to_event",
        key(48): "asset.download",
    }
    (welcome_id, reminder_id) = sorted(result["created"]["email"])
    assert steps[key(41)]["config"]["email_id"] == welcome_id
    assert steps[key(42)]["config"]["email_id"] == welcome_id
    assert steps[key(44)]["config"]["email_id"] == reminder_id
    assert steps[key(47)]["config"]["target"] == key(44)
    assert steps[key(48)]["config"]["assets"] == result["created"]["asset"]
    assert steps[key(53)]["config"]["landing_pages"] == result["created"]["page"]
    assert steps[key(50)]["config"]["forms"] == result["created"]["form"]
    reminder = steps[key(44)]["timing"]
    assert (reminder["mode"], reminder["amount"], reminder["unit"]) == ("interval", 3, "day")
    assert (reminder["window_start"], reminder["window_end"]) == ("09:00", "17:00")
    assert reminder["weekdays"] == [0, 1, 2, 3, 4]  # Mautic's Monday-Friday, 1-5 from Sunday
    assert steps[key(47)]["timing"]["at_hour"] == "10:00"
    edges = {(e["source"], e["target"]): e["path"] for e in campaign["edges"]}
    assert edges[(None, key(41))] is None
    assert edges[(key(42), key(43))] == "yes"
    assert edges[(key(42), key(44))] == "no"
    assert [t for (s, t) in edges if s == key(48)] == [key(49)]  # only a yes path
    assert [edges[(s, t)] for (s, t) in edges if s == key(50)] == ["no"]  # only a no path
    assert [t for (s, t) in edges if s == key(53)] == []  # no path at all
    sources = {(s["kind"], s["id"]) for s in campaign["sources"]}
    (trial_users,) = [
        s["id"]
        for s in (await admin.get("/api/v2/segments")).json()["data"]
        if s["name"] == "Trial users"
    ]
    assert sources == {("segment", trial_users), ("form", result["created"]["form"][0])}
    assert campaign["canvas"]["nodes"][key(41)] == {"x": 420, "y": 150}
    assert campaign["canvas"]["sources"] == {"x": 420, "y": 50}
    welcome = (await admin.get(f"/api/v2/emails/{welcome_id}")).json()
    assert "Start with the guided tour." in welcome["body"]
    assert "{contactfield=first_name|there}" in welcome["body"]
    assert "dynamiccontent" not in welcome["body"]
    form = (await admin.get(f"/api/v2/forms/{result['created']['form'][0]}")).json()
    assert [(f["name"], f["contact_field"]) for f in form["fields"]] == [
        ("email", "email"),
        ("firstname", "first_name"),
        ("plan", "plan"),
    ]
    assert form["actions"] == [
        {
            "type": "segments.add",
            "config": {
                "segments": [
                    s["id"]
                    for s in (await admin.get("/api/v2/segments")).json()["data"]
                    if s["name"] == "Engaged"
                ]
            },
        }
    ]
    asset = (await admin.get(f"/api/v2/assets/{result['created']['asset'][0]}")).json()
    assert asset["size"] == len((MAUTIC_FIXTURE / "assets" / MAUTIC_ASSET).read_bytes())

    published = await admin.post(f"/api/v2/campaigns/{campaign_id}/publish")
    assert published.status_code == 200, published.text
    # A visitor who submits the campaign's form enters it, and the welcome email goes out.
    async with harness.client() as public:
        sent = await submit(
            public, "trial-signup", {"email": "ada@example.com", "firstname": "Ada", "plan": "pro"}
        )
    assert sent.status_code == 200, sent.text
    await deliver(harness)
    assert await outbox(admin) == ["ada@example.com"]
    # A contact who joins the segment source enters at the next run.
    joined = await admin.post(
        "/api/v2/contacts", json={"email": "bob@example.com", "fields": {"plan": "trial"}}
    )
    assert joined.status_code == 201, joined.text
    await trigger(harness)
    await deliver(harness)
    assert await outbox(admin) == ["ada@example.com", "bob@example.com"]


async def test_importing_the_same_file_again_finds_the_same_entities(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    body = mautic_zip()
    first = await upload(admin, body, mode="apply")
    assert first.status_code == 200, first.text

    again = (await upload(admin, body)).json()

    statuses = {(e["kind"], e["name"]): (e["status"], e["match"]) for e in again["entities"]}
    assert set(statuses.values()) == {("identical", "uuid")}, statuses
    reused = (await upload(admin, body, mode="apply")).json()
    assert reused["created"] == {}
    assert reused["campaign_ids"] == first.json()["campaign_ids"]

    (welcome_id, _) = sorted(first.json()["created"]["email"])
    changed = await admin.patch(f"/api/v2/emails/{welcome_id}", json={"subject": "Changed"})
    assert changed.status_code == 200, changed.text
    analysis = (await upload(admin, body)).json()
    welcome = next(e for e in analysis["entities"] if e["uuid"] == WELCOME)
    assert (welcome["status"], welcome["default"]) == ("conflicting", "copy")
    updated = await upload(admin, body, mode="apply", choices={WELCOME: "update"})
    assert updated.status_code == 200, updated.text
    assert updated.json()["updated"] == {"email": [welcome_id]}
    email = (await admin.get(f"/api/v2/emails/{welcome_id}")).json()
    assert email["subject"] == "Welcome to your trial, {contactfield=first_name}"


async def test_a_bare_entity_data_json_is_accepted(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    document = mautic_document()
    raw = json.dumps(document).encode()

    without_files = await upload(admin, raw)

    # The asset's file can only travel in a ZIP.
    assert without_files.status_code == 422, without_files.text
    assert without_files.json()["errors"][0]["pointer"] == "/0/asset/0/path"
    assert without_files.json()["errors"][0]["code"] == "missing_file"
    del document[0]["asset"]
    for event in document[0]["campaign_event"]:
        if event["type"] == "asset.download":
            event["properties"]["assets"] = []  # any asset
    analysis = await upload(admin, json.dumps(document).encode())
    assert analysis.status_code == 200, analysis.text
    assert analysis.json()["source"] == "mautic"
    assert "asset" not in {e["kind"] for e in analysis.json()["entities"]}


def _event(document: Any, mautic_id: int) -> dict[str, Any]:
    return next(e for e in document[0]["campaign_event"] if e["id"] == mautic_id)


async def test_bad_files_are_refused_and_nothing_is_written(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    malformed = zip_of({"entity_data.json": '[{"campaign": [{"id": 1,'})
    response = await upload(admin, malformed, mode="apply")
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["code"] == "invalid_json"

    shape = mautic_document()
    shape[0]["campaign_event"][2] = "not a record"
    shape[0]["form_field"][0]["id"] = "first"
    response = await upload(admin, mautic_zip(shape), mode="apply")
    assert response.status_code == 422, response.text
    pointers = {e["pointer"] for e in response.json()["errors"]}
    assert pointers == {"/0/campaign_event/2", "/0/form_field/0/id"}
    shape = mautic_document()
    shape[0]["lists"][0]["filters"] = "everyone"
    shape[0]["campaign"][0]["canvas_settings"] = ["not", "an", "object"]
    response = await upload(admin, mautic_zip(shape), mode="apply")
    assert response.status_code == 422, response.text
    pointers = {e["pointer"] for e in response.json()["errors"]}
    assert pointers == {"/0/lists/0/filters"}

    missing = mautic_document()
    _event(missing, 44)["properties"]["properties"]["email"] = 99
    response = await upload(admin, mautic_zip(missing), mode="apply")
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert [(e["pointer"], e["code"]) for e in errors] == [
        ("/0/campaign_event/3/properties/email", "missing_reference")
    ]

    traversal = mautic_zip(extra={"assets/../../etc/passwd": b"root:x:0:0"})
    response = await upload(admin, traversal, mode="apply")
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["code"] == "unsafe_path"

    # An untranslatable step with steps below it cannot be left out: refused, with the list.
    cut = mautic_document()
    _event(cut, 45)["type"] = "lead.device"
    _event(cut, 49)["type"] = "sms.send_text_sms"
    response = await upload(admin, mautic_zip(cut), mode="apply")
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["unknown_event_types"] == ["lead.device", "sms.send_text_sms"]
    assert {e["pointer"] for e in problem["errors"]} == {
        "/0/campaign_event/4/type",
        "/0/campaign_event/8/type",
    }

    # A translated document that is not valid here names the Mautic record it came from.
    invalid = mautic_document()
    invalid[0]["email"][1]["from_address"] = "not an address"
    response = await upload(admin, mautic_zip(invalid), mode="apply")
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["pointer"] == "/0/email/1#/from_address"

    not_mautic = await upload(admin, b'{"hello": "world"}', mode="apply")
    assert not_mautic.status_code == 422, not_mautic.text

    await nothing_written(harness, admin)


async def test_a_jump_to_a_left_out_step_is_left_out_too(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    document = copy.deepcopy(mautic_document())
    _event(document, 47)["properties"]["jumpToEvent"] = 52  # the CRM push, which is left out
    analysis = await upload(admin, mautic_zip(document))
    assert analysis.status_code == 200, analysis.text
    paths = {n["path"] for n in analysis.json()["notes"]}
    assert "/0/campaign_event/6/properties/jumpToEvent" in paths
    applied = (await upload(admin, mautic_zip(document), mode="apply")).json()
    (campaign_id,) = applied["campaign_ids"]
    keys = {
        e["key"] for e in (await admin.get(f"/api/v2/campaigns/{campaign_id}")).json()["events"]
    }
    assert key(47) not in keys
    assert key(52) not in keys
    assert key(46) in keys
