"""Timing modes end to end, splits and groups, editing live campaigns, reactivation."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx

from tests.domains.campaigns.helpers import campaign, contacts, edge, journey, stats, step, trigger
from tests.fixtures.api import Harness


async def test_fixed_date_and_relative_to_a_contact_date(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    await admin.post("/api/v2/fields", json={"label": "Renewal date", "type": "date"})
    start = harness.clock.now()
    soon, undated = await contacts(
        admin,
        {
            "email": "soon@example.com",
            "timezone": "Europe/Paris",
            "fields": {"renewal_date": (start + timedelta(days=10)).date().isoformat()},
        },
        {"email": "undated@example.com"},
    )
    launch = step(
        "contact.change_tags",
        {"add": ["launch"]},
        name="Launch",
        timing={"mode": "date", "at": (start + timedelta(days=2)).isoformat()},
    )
    reminder = step(
        "contact.change_tags",
        {"add": ["renew"]},
        name="Reminder",
        timing={"mode": "relative", "field": "renewal_date", "offset_days": -3, "at_hour": "08:00"},
    )
    created = await campaign(
        admin, events=[launch, reminder], edges=[edge(None, launch), edge(None, reminder)]
    )
    await admin.post(
        f"/api/v2/campaigns/{created['id']}/members", json={"contact_ids": [soon, undated]}
    )
    steps = (await admin.get(f"/api/v2/campaigns/{created['id']}/contacts/{soon}/journey")).json()[
        "steps"
    ]
    due = {s["event_name"]: s["due_at"] for s in steps}
    renewal = (start + timedelta(days=7)).date()
    assert due["Reminder"] == f"{renewal.isoformat()}T07:00:00Z"  # 08:00 Paris, winter time
    assert (await journey(admin, created["id"], undated))[1] == ("Reminder", "skipped")
    await trigger(harness, start + timedelta(days=2, minutes=1))
    assert (await admin.get(f"/api/v2/contacts/{soon}")).json()["tags"] == ["launch"]
    await trigger(harness, start + timedelta(days=8))
    assert (await admin.get(f"/api/v2/contacts/{soon}")).json()["tags"] == ["launch", "renew"]


async def test_random_split_and_condition_group(harness: Harness, admin: httpx.AsyncClient) -> None:
    people = await contacts(
        admin,
        *(
            {"email": f"s{i}@example.com", "city": "Paris" if i % 2 else "Rome", "points": i}
            for i in range(40)
        ),
    )
    split = step("condition.random_split", {"weights": [1, 1]}, name="Split")
    a = step("contact.change_tags", {"add": ["a"]})
    b = step("contact.change_tags", {"add": ["b"]})
    group = step(
        "condition.group",
        {
            "filters": {
                "match": "any",
                "conditions": [
                    {"type": "field", "field": "city", "operator": "=", "value": "Paris"},
                    {"type": "points", "operator": ">=", "value": 30},
                ],
            }
        },
        name="Group",
    )
    hot = step("contact.change_tags", {"add": ["hot"]})
    created = await campaign(
        admin,
        events=[split, a, b, group, hot],
        edges=[
            edge(None, split),
            edge(split, a, "b0"),
            edge(split, b, "b1"),
            edge(None, group),
            edge(group, hot, "yes"),
        ],
    )
    await admin.post(f"/api/v2/campaigns/{created['id']}/members", json={"contact_ids": people})
    listed = (await admin.get("/api/v2/contacts", params={"page[size]": 100})).json()["data"]
    branches = Counter("a" if "a" in c["tags"] else "b" for c in listed)
    assert branches["a"] + branches["b"] == 40
    assert min(branches.values()) >= 10
    expected_hot = {c["id"] for c in listed if c["city"] == "Paris" or c["points"] >= 30}
    assert {c["id"] for c in listed if "hot" in c["tags"]} == expected_hot
    counts = await stats(admin, created["id"])
    assert counts[group["key"]]["yes"] == len(expected_hot)


async def test_deleting_a_step_redirects_waiting_contacts(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    (who,) = await contacts(admin, {"email": "wait@example.com"})
    first = step("contact.change_tags", {"add": ["first"]}, name="First")
    wait = step(
        "contact.change_tags",
        {"add": ["old"]},
        name="Old",
        timing={"mode": "interval", "amount": 2, "unit": "day"},
    )
    created = await campaign(
        admin, events=[first, wait], edges=[edge(None, first), edge(first, wait)]
    )
    await admin.post(f"/api/v2/campaigns/{created['id']}/members", json={"contact_ids": [who]})
    replacement = step("contact.change_tags", {"add": ["new"]}, name="New")
    document = {
        "name": "Journey",
        "events": [first, replacement],
        "edges": [edge(None, first), edge(first, replacement)],
    }
    refused = await admin.put(f"/api/v2/campaigns/{created['id']}", json=document)
    assert refused.status_code == 409
    assert refused.json()["waiting"] == {wait["key"]: 1}
    document["on_delete"] = {wait["key"]: {"redirect_to": replacement["key"]}}
    saved = await admin.put(f"/api/v2/campaigns/{created['id']}", json=document)
    assert saved.status_code == 200, saved.text
    tags = (await admin.get(f"/api/v2/contacts/{who}")).json()["tags"]
    assert tags == ["first", "new"]
    audit = (
        await admin.get(
            "/api/v2/audit-log", params={"entity_type": "campaign", "entity_id": created["id"]}
        )
    ).json()["data"][0]
    events = audit["changes"]["events"]
    assert [e["key"] for e in events["added"]] == [replacement["key"]]
    assert [e["key"] for e in events["removed"]] == [wait["key"]]


async def test_steps_added_later_pick_up_contacts_whose_journey_ended(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    (who,) = await contacts(admin, {"email": "stuck@example.com"})
    first = step("contact.change_tags", {"add": ["first"]}, name="First")
    created = await campaign(admin, events=[first], edges=[edge(None, first)])
    await admin.post(f"/api/v2/campaigns/{created['id']}/members", json={"contact_ids": [who]})
    added = step("contact.change_tags", {"add": ["added-later"]}, name="Added later")
    saved = await admin.put(
        f"/api/v2/campaigns/{created['id']}",
        json={
            "name": "Journey",
            "events": [first, added],
            "edges": [edge(None, first), edge(first, added)],
        },
    )
    assert saved.status_code == 200, saved.text
    assert (await admin.get(f"/api/v2/contacts/{who}")).json()["tags"] == ["added-later", "first"]


async def test_reactivation_counts_delay_only_while_published(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    start = datetime(2026, 1, 1, 9, tzinfo=UTC)
    harness.clock.set(start)
    (who,) = await contacts(admin, {"email": "pause@example.com"})
    later = step(
        "contact.change_tags",
        {"add": ["done"]},
        name="Ten days",
        timing={"mode": "interval", "amount": 10, "unit": "day"},
    )
    created = await campaign(
        admin, events=[later], edges=[edge(None, later)], reactivation="count_only_while_published"
    )
    await admin.post(f"/api/v2/campaigns/{created['id']}/members", json={"contact_ids": [who]})
    harness.clock.set(start + timedelta(days=4))
    await admin.post(f"/api/v2/campaigns/{created['id']}/unpublish")
    harness.clock.set(start + timedelta(days=9))
    await admin.post(f"/api/v2/campaigns/{created['id']}/publish")
    # Paused for 5 days: due on day 15, not day 10.
    await trigger(harness, start + timedelta(days=11))
    assert (await admin.get(f"/api/v2/contacts/{who}")).json()["tags"] == []
    await trigger(harness, start + timedelta(days=15, minutes=1))
    assert (await admin.get(f"/api/v2/contacts/{who}")).json()["tags"] == ["done"]


async def test_campaign_membership_is_on_the_contact_timeline(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    (who,) = await contacts(admin, {"email": "tl@example.com"})
    act = step("contact.change_points", {"delta": 2})
    created = await campaign(admin, name="Onboarding", events=[act], edges=[edge(None, act)])
    await admin.post(f"/api/v2/campaigns/{created['id']}/members", json={"contact_ids": [who]})
    timeline = (await admin.get(f"/api/v2/contacts/{who}/activity")).json()["data"]
    assert any(i["kind"] == "campaign_joined" and "Onboarding" in i["summary"] for i in timeline)
    response = await admin.get(f"/api/v2/contacts/{who}/campaigns")
    assert response.status_code == 200, response.text
    mine = response.json()
    assert [(m["campaign_id"], m["status"]) for m in mine] == [(created["id"], "active")]
