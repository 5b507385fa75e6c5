"""The segment filter "submitted form" and the campaign condition "submitted value"."""

from __future__ import annotations

from typing import Any

import httpx

from tests.domains.campaigns.helpers import campaign, edge, step
from tests.domains.forms.helpers import create_form, submit
from tests.fixtures.api import Harness


async def _count(admin: httpx.AsyncClient, condition: dict[str, Any]) -> int:
    response = await admin.post(
        "/api/v2/segments/count", json={"filters": {"match": "all", "conditions": [condition]}}
    )
    assert response.status_code == 200, response.text
    return int(response.json()["count"])


async def _people(harness: Harness, admin: httpx.AsyncClient) -> tuple[int, int]:
    form = await create_form(admin)
    other = await create_form(admin, alias="other", name="Other")
    await admin.post("/api/v2/contacts", json={"email": "nobody@example.com"})
    async with harness.client() as public:
        for email, topics in (("ada@example.com", ["news"]), ("bob@example.com", ["Deals"])):
            answer = await submit(
                public,
                "newsletter",
                {
                    "email": email,
                    "first_name": email[:3].title(),
                    "consent": True,
                    "topics": [t.lower() for t in topics],
                },
            )
            assert answer.status_code == 200, answer.text
        answer = await submit(public, "other", {"email": "cy@example.com", "consent": True})
        assert answer.status_code == 200
    return form["id"], other["id"]


async def test_submitted_form_segment_filter(harness: Harness, admin: httpx.AsyncClient) -> None:
    form_id, other_id = await _people(harness, admin)
    assert (
        await _count(admin, {"type": "form_submitted", "operator": "in", "value": [form_id]}) == 2
    )
    assert (
        await _count(
            admin, {"type": "form_submitted", "operator": "in", "value": [form_id, other_id]}
        )
        == 3
    )
    assert (
        await _count(admin, {"type": "form_submitted", "operator": "not_in", "value": [form_id]})
        == 2
    )
    bad = await admin.post(
        "/api/v2/segments/count",
        json={
            "filters": {
                "match": "all",
                "conditions": [{"type": "form_submitted", "operator": "in", "value": ["x"]}],
            }
        },
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["pointer"] == "/filters/conditions/0/value/0"
    types = {t["key"] for t in (await admin.get("/api/v2/segment-filter-types")).json()}
    assert {"form_submitted", "form_submitted_value"} <= types


async def test_submitted_value_filter(harness: Harness, admin: httpx.AsyncClient) -> None:
    form_id, _ = await _people(harness, admin)

    def value(operator: str, wanted: Any = None, field: str = "first_name") -> dict[str, Any]:
        return {
            "type": "form_submitted_value",
            "field": field,
            "operator": operator,
            "value": {"form_id": form_id, "value": wanted},
        }

    assert await _count(admin, value("=", "ADA")) == 1  # case-insensitive
    assert await _count(admin, value("!=", "Ada")) == 3
    assert await _count(admin, value("contains", "o")) == 1
    assert await _count(admin, value("starts_with", "b")) == 1
    assert await _count(admin, value("not_empty")) == 2
    assert await _count(admin, value("=", "news", field="topics")) == 1  # a ticked option
    assert await _count(admin, value("=", "deals", field="topics")) == 1
    assert await _count(admin, value("=", "100%_", field="first_name")) == 0
    bad = await admin.post(
        "/api/v2/segments/count",
        json={
            "filters": {
                "match": "all",
                "conditions": [
                    {
                        "type": "form_submitted_value",
                        "field": "first_name",
                        "operator": "=",
                        "value": {"form_id": "x", "value": "a"},
                    }
                ],
            }
        },
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["pointer"] == "/filters/conditions/0/value/form_id"


async def test_submitted_value_condition_in_a_campaign(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    form = await create_form(admin)
    condition = step(
        "form.submitted_value",
        {"form_id": form["id"], "field": "topics", "operator": "=", "value": "news"},
    )
    yes = step("contact.change_tags", {"add": ["likes-news"]})
    no = step("contact.change_tags", {"add": ["no-news"]})
    created = await campaign(
        admin,
        events=[condition, yes, no],
        edges=[edge(None, condition), edge(condition, yes, "yes"), edge(condition, no, "no")],
        sources=[{"kind": "form", "id": form["id"]}],
    )
    assert created["id"]
    async with harness.client() as public:
        for email, topics in (("ada@example.com", ["news"]), ("bob@example.com", ["deals"])):
            answer = await submit(
                public, "newsletter", {"email": email, "consent": True, "topics": topics}
            )
            assert answer.status_code == 200, answer.text
    tags = {}
    for email in ("ada@example.com", "bob@example.com"):
        found = (await admin.get("/api/v2/contacts", params={"q": email})).json()["data"][0]
        got = (await admin.get(f"/api/v2/contacts/{found['id']}")).json()["tags"]
        tags[email] = [t if isinstance(t, str) else t["name"] for t in got]
    assert tags == {"ada@example.com": ["likes-news"], "bob@example.com": ["no-news"]}
