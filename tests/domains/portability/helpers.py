"""A campaign that uses every built-in step type that can be configured without users or
companies, with its emails, form, segments, custom field, stage and project, built through the
API; and the ZIP helpers of the import tests."""

from __future__ import annotations

import io
import itertools
import json
import zipfile
from pathlib import Path
from typing import Any

import httpx

from tests.domains.campaigns.helpers import edge, step

MJML = (
    "<mjml><mj-body><mj-section><mj-column><mj-text>Hi</mj-text>"
    "</mj-column></mj-section></mj-body></mjml>"
)


ASSET_TEXT = b"Prices for spring: everything at 10% off.\n"


async def post(admin: httpx.AsyncClient, url: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await admin.post(url, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def build_world(admin: httpx.AsyncClient) -> dict[str, Any]:
    """Every dependency kind, and two campaigns: "Onboarding" (every step type) and
    "Follow-up" (reached only through Onboarding's change_campaigns step)."""
    project = await post(admin, "/api/v2/projects", {"name": "Spring launch"})
    stage = await post(admin, "/api/v2/stages", {"name": "Lead"})
    field = await post(
        admin, "/api/v2/fields", {"alias": "score", "label": "Score", "type": "number"}
    )
    welcome = await post(
        admin,
        "/api/v2/emails",
        {"name": "Welcome", "subject": "Welcome", "body": MJML, "projects": [project["id"]]},
    )
    thanks = await post(
        admin, "/api/v2/emails", {"name": "Thanks", "subject": "Thanks", "body": MJML}
    )
    base = await post(
        admin,
        "/api/v2/segments",
        {
            "name": "Everyone",
            "filters": {
                "match": "all",
                "conditions": [{"type": "points", "operator": ">=", "value": 0}],
            },
        },
    )
    leads = await post(
        admin,
        "/api/v2/segments",
        {
            "name": "Warm leads",
            "projects": [project["id"]],
            "filters": {
                "match": "all",
                "conditions": [
                    {"type": "segment", "operator": "in", "value": [base["id"]]},
                    {"type": "custom_field", "field": "score", "operator": ">", "value": 5},
                    {"type": "stage", "operator": "in", "value": [stage["id"]]},
                    {"type": "email_opened", "operator": "in", "value": [welcome["id"]]},
                ],
            },
        },
    )
    follow_up = await post(
        admin, "/api/v2/campaigns", {"name": "Follow-up", "events": [], "edges": []}
    )
    form = await post(
        admin,
        "/api/v2/forms",
        {
            "name": "Newsletter",
            "alias": "newsletter",
            "fields": [
                {
                    "label": "Email",
                    "type": "email",
                    "name": "email",
                    "contact_field": "email",
                    "required": True,
                },
                {"label": "Score", "type": "number", "name": "score", "contact_field": "score"},
            ],
            "actions": [
                {"type": "segments.add", "config": {"segments": [leads["id"]]}},
                {"type": "email.send_to_contact", "config": {"email_id": thanks["id"]}},
                {"type": "campaigns.add", "config": {"campaigns": [follow_up["id"]]}},
                {"type": "tags.change", "config": {"add": ["newsletter"]}},
            ],
        },
    )
    uploaded = await admin.post(
        "/api/v2/assets",
        files={"file": ("price-list.txt", ASSET_TEXT, "text/plain")},
        data={"name": "Price list", "slug": "price-list", "gate_form_id": str(form["id"])},
    )
    assert uploaded.status_code == 201, uploaded.text
    asset = dict(uploaded.json())
    page = await post(
        admin,
        "/api/v2/pages",
        {
            "name": "Spring offer",
            "title": "Spring offer",
            "slug": "spring-offer",
            "html": "<h1>Spring</h1>",
        },
    )
    steps = [
        step("email.send", {"email_id": welcome["id"]}, key="send"),
        step("email.open", {"email_id": welcome["id"]}, key="opened"),
        step("contact.change_tags", {"add": ["opened"]}, key="tag"),
        step("email.click", {"email_id": welcome["id"]}, key="clicked"),
        step("contact.change_points", {"delta": 5}, key="points"),
        step("form.submit", {"forms": [form["id"]]}, key="submitted"),
        step("contact.update_fields", {"values": {"score": 10}}, key="update"),
        step("contact.performs_event", {"name": "signup"}, key="performed"),
        step("contact.change_segments", {"add": [leads["id"]]}, key="segments"),
        step("contact.change_stage", {"stage_id": stage["id"]}, key="stage"),
        step("contact.add_dnc", {"channels": ["sms"]}, key="dnc"),
        step("contact.remove_dnc", {"channels": ["sms"]}, key="undnc"),
        step("webhook.send", {"url": "https://hooks.example.com/x"}, key="hook"),
        step("campaign.change_campaigns", {"add": [follow_up["id"]]}, key="campaigns"),
        step("contact.field_value", {"field": "score", "operator": ">", "value": 3}, key="c1"),
        step("contact.tags", {"tags": ["opened"]}, key="c2"),
        step("contact.segments", {"segments": [leads["id"]]}, key="c3"),
        step("contact.points", {"operator": ">", "value": 1}, key="c4"),
        step("contact.stage", {"stages": [stage["id"]]}, key="c5"),
        step("contact.dnc", {}, key="c6"),
        step("contact.campaigns", {"campaigns": [follow_up["id"]]}, key="c7"),
        step("contact.valid_email", {}, key="c8"),
        step(
            "condition.group",
            {
                "filters": {
                    "match": "any",
                    "conditions": [
                        {"type": "segment", "operator": "in", "value": [base["id"]]},
                        {"type": "form_submitted", "operator": "in", "value": [form["id"]]},
                    ],
                }
            },
            key="c9",
        ),
        step("email.deliverable", {}, key="c10"),
        step(
            "form.submitted_value",
            {"form_id": form["id"], "field": "score", "operator": "=", "value": "7"},
            key="c11",
        ),
        step("asset.download", {"assets": [asset["id"]]}, key="downloaded"),
        step("contact.change_tags", {"add": ["visited"]}, key="tag2"),
        step("page.hit", {"landing_pages": [page["id"]]}, key="hit"),
        step("page.visited", {"url": "https://shop.example.com/*"}, key="visited"),
        step("page.device_hit", {"devices": ["mobile"]}, key="device"),
        step("condition.random_split", {"weights": [30, 70]}, key="split"),
        step("contact.anonymise", {"fields": ["first_name"]}, key="anon"),
        step("campaign.jump_to_event", {"target": "tag"}, key="jump"),
    ]
    edges = [edge(None, steps[0])]
    for previous, current in itertools.pairwise(steps):
        kind_path = "b0" if previous["key"] == "split" else None
        kind_path = "yes" if previous["key"] in PATHED else kind_path
        edges.append(edge(previous, current, kind_path))
    campaign = await post(
        admin,
        "/api/v2/campaigns",
        {
            "name": "Onboarding",
            "projects": [project["id"]],
            "sources": [{"kind": "segment", "id": leads["id"]}, {"kind": "form", "id": form["id"]}],
            "events": steps,
            "edges": edges,
            "canvas": {"nodes": {"send": {"x": 10, "y": 20}}},
        },
    )
    return {
        "project": project,
        "stage": stage,
        "field": field,
        "welcome": welcome,
        "thanks": thanks,
        "base": base,
        "leads": leads,
        "form": form,
        "follow_up": follow_up,
        "campaign": campaign,
        "asset": asset,
        "page": page,
    }


PATHED = {
    "downloaded",
    "hit",
    "device",
    "visited",
    "opened",
    "clicked",
    "submitted",
    "performed",
    "c1",
    "c2",
    "c3",
    "c4",
    "c5",
    "c6",
    "c7",
    "c8",
    "c9",
    "c10",
    "c11",
}


def manifest_of(body: bytes) -> dict[str, Any]:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return dict(json.loads(archive.read("manifest.json")))


def zip_of(members: dict[str, bytes | str], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


async def upload(
    client: httpx.AsyncClient,
    body: bytes,
    *,
    mode: str = "analyse",
    choices: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.post(
        f"/api/v2/campaigns/import?mode={mode}",
        files={"file": ("export.zip", body, "application/zip")},
        data={"choices": json.dumps(choices or {})},
    )


# -- the hand-written Mautic 7 export of tests/fixtures/mautic ---------------------------------

MAUTIC_FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "mautic"
MAUTIC_ASSET = "5e9f1c0a2b7d4e61.txt"


def mautic_document() -> Any:
    return json.loads((MAUTIC_FIXTURE / "entity_data.json").read_text())


def mautic_zip(document: Any = None, extra: dict[str, bytes | str] | None = None) -> bytes:
    """The fixture as Mautic exports it: entity_data.json and the assets folder."""
    members: dict[str, bytes | str] = {
        "entity_data.json": json.dumps(document if document is not None else mautic_document()),
        f"assets/{MAUTIC_ASSET}": (MAUTIC_FIXTURE / "assets" / MAUTIC_ASSET).read_bytes(),
    }
    members.update(extra or {})
    return zip_of(members)
