"""Consent records: given and withdrawn with the exact wording, its version, the source, the
time and the (truncated) address; a segment filter and a campaign condition on them."""

from __future__ import annotations

from datetime import timedelta

import httpx

from tests.domains.campaigns.helpers import admin_rebuild, campaign, contacts, edge, step, trigger
from tests.domains.forms.helpers import create_form, submit
from tests.fixtures.api import START, Harness


async def _record(
    admin: httpx.AsyncClient, contact_id: int, *changes: dict[str, object]
) -> httpx.Response:
    return await admin.post(f"/api/v2/contacts/{contact_id}/consents", json=list(changes))


async def test_history_keeps_every_change_and_the_current_state(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    [ada] = await contacts(admin, {"email": "ada@example.com"})
    given = await _record(
        admin,
        ada,
        {
            "purpose": "newsletter",
            "granted": True,
            "wording": "Send me the monthly newsletter.",
            "wording_version": "2026-03",
            "source": "preferences",
            "ip": "192.0.2.55",
        },
    )
    assert given.status_code == 201, given.text
    harness.clock.set(START + timedelta(days=3))
    withdrawn = await _record(admin, ada, {"purpose": "newsletter", "granted": False})
    assert withdrawn.json()["current"] == {"newsletter": False}
    history = (await admin.get(f"/api/v2/contacts/{ada}/consents")).json()
    assert [(c["granted"], c["source"]) for c in history["data"]] == [
        (False, "api"),
        (True, "preferences"),
    ]
    first = history["data"][1]
    assert (first["wording"], first["wording_version"]) == (
        "Send me the monthly newsletter.",
        "2026-03",
    )
    # Anonymise IPs is on by default: the network, not the host.
    assert first["ip"] == "192.0.2.0"

    for body, pointer in (
        ({"purpose": "Bad Purpose!", "granted": True}, "/0/purpose"),
        ({"purpose": "news", "granted": True, "ip": "not an ip"}, "/0/ip"),
        ({"purpose": "news"}, "/0/granted"),
    ):
        refused = await _record(admin, ada, body)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["pointer"].endswith(pointer), refused.text


async def test_a_form_consent_box_records_the_wording_it_showed(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    form = await create_form(admin)
    async with harness.client() as public:
        answer = await submit(public, "newsletter", {"email": "ada@example.com", "consent": "1"})
        assert answer.status_code == 200, answer.text
    found = await admin.get("/api/v2/contacts", params={"search": "ada@example.com"})
    ada = found.json()["data"][0]["id"]
    [record] = (await admin.get(f"/api/v2/contacts/{ada}/consents")).json()["data"]
    assert (record["purpose"], record["source"], record["granted"]) == ("marketing", "form", True)
    assert record["wording"] == "I agree to receive the newsletter."
    assert len(record["wording_version"]) == 12
    assert record["ip"] == "203.0.113.0"
    assert form["id"] == record["source_id"]


async def test_the_segment_filter_and_the_campaign_condition(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    ada, bob, cy = await contacts(
        admin, {"email": "ada@example.com"}, {"email": "bob@example.com"}, {"email": "cy@x.org"}
    )
    await _record(admin, ada, {"purpose": "marketing", "granted": True})
    await _record(admin, bob, {"purpose": "marketing", "granted": True})
    await _record(admin, bob, {"purpose": "marketing", "granted": False})
    await _record(admin, cy, {"purpose": "profiling", "granted": True})

    segment = await admin.post(
        "/api/v2/segments",
        json={
            "name": "May be marketed to",
            "is_published": True,
            "filters": {
                "match": "all",
                "conditions": [{"type": "consent", "operator": "=", "value": "marketing"}],
            },
        },
    )
    assert segment.status_code == 201, segment.text
    await admin_rebuild(harness)
    members = await admin.get(f"/api/v2/segments/{segment.json()['id']}/members")
    assert [m["contact_id"] for m in members.json()["data"]] == [ada]
    bad = await admin.post(
        "/api/v2/segments",
        json={
            "name": "Bad",
            "filters": {
                "match": "all",
                "conditions": [{"type": "consent", "operator": "in", "value": "marketing"}],
            },
        },
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["pointer"] == "/filters/conditions/0/operator"

    check = step("contact.has_consent", {"purpose": "marketing"}, name="Consent?")
    yes = step("contact.change_tags", {"add": ["may-market"]}, name="yes")
    no = step("contact.change_tags", {"add": ["ask-first"]}, name="no")
    journey = await campaign(
        admin,
        events=[check, yes, no],
        edges=[edge(None, check), edge(check, yes, "yes"), edge(check, no, "no")],
    )
    added = await admin.post(
        f"/api/v2/campaigns/{journey['id']}/members", json={"contact_ids": [ada, bob, cy]}
    )
    assert added.status_code == 200, added.text
    await trigger(harness)
    tags = {}
    for contact_id in (ada, bob, cy):
        tags[contact_id] = (await admin.get(f"/api/v2/contacts/{contact_id}")).json()["tags"]
    assert tags == {ada: ["may-market"], bob: ["ask-first"], cy: ["ask-first"]}
