"""The dashboard: the last 30 days over what the signed-in user may see (ADR 0015)."""

from __future__ import annotations

from datetime import timedelta

import httpx

from tests.domains.campaigns.helpers import campaign, contacts, edge, step, trigger
from tests.domains.contacts.test_upsert_permissions import own_only
from tests.fixtures.api import Harness

API = "/api/v2"


async def dashboard(client: httpx.AsyncClient) -> dict:  # type: ignore[type-arg]
    response = await client.get(f"{API}/dashboard")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_fresh_install_shows_the_getting_started_checklist(
    admin: httpx.AsyncClient,
) -> None:
    body = await dashboard(admin)
    assert body["checklist"] == dict.fromkeys(
        ("contacts", "segment", "email", "campaign", "published"), False
    )
    assert body["active_campaigns"] == 0
    assert body["campaigns"] == []
    assert body["failures"] == []
    assert (body["emails"]["sent"], body["new_contacts"], body["form_submissions"]) == (0, 0, 0)
    # One point per day of the period, today included, so a chart has no gaps.
    assert len(body["new_contacts_daily"]) == body["days"] + 1 == 31
    assert len(body["emails"]["daily"]) == 31


async def test_campaign_entries_completions_and_new_contacts_are_counted(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    people = await contacts(admin, *({"email": f"d{i}@example.com"} for i in range(3)))
    tag = step("contact.change_tags", {"add": ["welcomed"]})
    created = await campaign(admin, events=[tag], edges=[edge(None, tag)], name="Welcome")
    added = await admin.post(
        f"{API}/campaigns/{created['id']}/members", json={"contact_ids": people}
    )
    assert len(added.json()["added"]) == 3
    await trigger(harness, harness.clock.now() + timedelta(minutes=1))

    body = await dashboard(admin)
    assert body["active_campaigns"] == 1
    assert body["campaigns"] == [
        {"id": created["id"], "name": "Welcome", "entries": 3, "completed": 3, "exits": 0}
    ]
    assert body["new_contacts"] == 3
    today = harness.clock.now().date().isoformat()
    assert {d["day"]: d["count"] for d in body["new_contacts_daily"]}[today] == 3
    assert body["checklist"] == {
        "contacts": True,
        "segment": False,
        "email": False,
        "campaign": True,
        "published": True,
    }


async def test_contacts_older_than_the_period_are_not_new(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    await contacts(admin, {"email": "old@example.com"})
    harness.clock.set(harness.clock.now() + timedelta(days=31))
    body = await dashboard(admin)
    assert body["new_contacts"] == 0
    assert body["checklist"]["contacts"] is True


async def test_an_own_only_user_counts_only_what_they_may_see(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    people = await contacts(admin, {"email": "a@example.com"}, {"email": "b@example.com"})
    tag = step("contact.change_tags", {"add": ["x"]})
    created = await campaign(admin, events=[tag], edges=[edge(None, tag)])
    await admin.post(f"{API}/campaigns/{created['id']}/members", json={"contact_ids": people})
    [(alice, _)] = await own_only(harness, admin, "alice")
    mine = await alice.post(f"{API}/contacts", json={"email": "hers@example.com"})
    assert mine.status_code == 201, mine.text

    body = await dashboard(alice)
    assert body["active_campaigns"] == 0
    assert body["campaigns"] == []
    assert body["new_contacts"] == 1
    assert body["checklist"]["contacts"] is True
    assert body["checklist"]["campaign"] is False
    # The administrator sees everyone's.
    assert (await dashboard(admin))["new_contacts"] == 3


async def test_dead_steps_are_listed_for_attention(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    [person] = await contacts(admin, {"email": "w@example.com"})
    hook = step("webhook.send", {"url": "http://127.0.0.1:9/never", "method": "POST"})
    created = await campaign(admin, events=[hook], edges=[edge(None, hook)], name="Hooks")
    await admin.post(f"{API}/campaigns/{created['id']}/members", json={"contact_ids": [person]})
    await trigger(harness, harness.clock.now() + timedelta(minutes=1))

    failures = (await dashboard(admin))["failures"]
    assert [(f["campaign_id"], f["campaign_name"]) for f in failures] == [(created["id"], "Hooks")]
    assert failures[0]["dead"] + failures[0]["retrying"] == 1
