"""Membership: live and locked audiences, exits when leaving the source, restarts, removals
by a person that stick, and changes made by steps (change campaigns, jump)."""

from __future__ import annotations

from datetime import timedelta

import httpx

from tests.domains.campaigns.helpers import (
    campaign,
    contacts,
    edge,
    journey,
    segment,
    step,
    trigger,
)
from tests.fixtures.api import Harness
from trellis.domains.campaigns.service import EnginePolicy, campaign_service


async def tag_segment(admin: httpx.AsyncClient, tag: str) -> int:
    return await segment(
        admin, f"Tagged {tag}", [{"type": "tags", "operator": "has_any", "value": [tag]}]
    )


async def members(admin: httpx.AsyncClient, campaign_id: int, status: str = "active") -> list[int]:
    response = await admin.get(
        f"/api/v2/campaigns/{campaign_id}/members", params={"status": status}
    )
    return sorted(m["contact_id"] for m in response.json()["data"])


async def test_live_audience_keeps_taking_new_members_and_exits_leavers(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    (first,) = await contacts(admin, {"email": "a@example.com", "tags": ["vip"]})
    source = await tag_segment(admin, "vip")
    wait = step(
        "contact.change_points",
        {"delta": 1},
        name="Later",
        timing={"mode": "interval", "amount": 2, "unit": "day"},
    )
    created = await campaign(
        admin, events=[wait], edges=[edge(None, wait)], sources=[{"kind": "segment", "id": source}]
    )
    await trigger(harness)
    assert await members(admin, created["id"]) == [first]
    (second,) = await contacts(admin, {"email": "b@example.com", "tags": ["vip"]})
    await trigger(harness, harness.clock.now() + timedelta(hours=1))
    assert await members(admin, created["id"]) == [first, second]
    # The first contact leaves the segment: it exits and its waiting step is cancelled.
    await admin.patch(f"/api/v2/contacts/{first}", json={"remove_tags": ["vip"]})
    await trigger(harness, harness.clock.now() + timedelta(hours=1))
    assert await members(admin, created["id"]) == [second]
    assert await members(admin, created["id"], "exited") == [first]
    assert await journey(admin, created["id"], first) == [("Later", "cancelled")]
    await trigger(harness, harness.clock.now() + timedelta(days=3))
    assert (await admin.get(f"/api/v2/contacts/{first}")).json()["points"] == 0
    assert (await admin.get(f"/api/v2/contacts/{second}")).json()["points"] == 1


async def test_a_step_cancelled_by_leaving_the_segment_says_which_segment_and_when(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    (who,) = await contacts(admin, {"email": "a@example.com", "tags": ["vip"]})
    source = await tag_segment(admin, "vip")
    wait = step(
        "contact.change_points",
        {"delta": 1},
        name="Later",
        timing={"mode": "interval", "amount": 2, "unit": "day"},
    )
    created = await campaign(
        admin, events=[wait], edges=[edge(None, wait)], sources=[{"kind": "segment", "id": source}]
    )
    await trigger(harness)
    await admin.patch(f"/api/v2/contacts/{who}", json={"remove_tags": ["vip"]})
    left = harness.clock.now() + timedelta(hours=1)
    await trigger(harness, left)
    trace = await admin.get(f"/api/v2/campaigns/{created['id']}/contacts/{who}/journey")
    (cancelled,) = trace.json()["steps"]
    assert cancelled["status"] == "cancelled"
    assert cancelled["detail"] == {
        "reason": f"left the source segment {source} at {left:%Y-%m-%d %H:%M:%S} UTC"
    }


async def test_locked_audience_ignores_later_joiners(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    (early,) = await contacts(admin, {"email": "early@example.com", "tags": ["launch"]})
    source = await tag_segment(admin, "launch")
    await trigger(harness)  # the segment is built before publishing
    act = step("contact.change_tags", {"add": ["invited"]})
    created = await campaign(
        admin,
        events=[act],
        edges=[edge(None, act)],
        sources=[{"kind": "segment", "id": source, "audience": "locked"}],
    )
    harness.clock.advance(timedelta(minutes=5))
    (late,) = await contacts(admin, {"email": "late@example.com", "tags": ["launch"]})
    await trigger(harness, harness.clock.now() + timedelta(minutes=5))
    assert await members(admin, created["id"]) == [early]
    assert (await admin.get(f"/api/v2/contacts/{late}")).json()["tags"] == ["launch"]


async def test_staying_members_when_exit_on_leave_is_off(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    (who,) = await contacts(admin, {"email": "stay@example.com", "tags": ["promo"]})
    source = await tag_segment(admin, "promo")
    later = step(
        "contact.change_tags",
        {"add": ["done"]},
        timing={"mode": "interval", "amount": 1, "unit": "day"},
    )
    created = await campaign(
        admin,
        events=[later],
        edges=[edge(None, later)],
        sources=[{"kind": "segment", "id": source}],
        exit_on_source_leave=False,
    )
    await trigger(harness)
    await admin.patch(f"/api/v2/contacts/{who}", json={"remove_tags": ["promo"]})
    await trigger(harness, harness.clock.now() + timedelta(days=2))
    assert await members(admin, created["id"]) == [who]
    assert "done" in (await admin.get(f"/api/v2/contacts/{who}")).json()["tags"]


async def test_removal_by_a_person_sticks_and_manual_readd_restarts(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    (who,) = await contacts(admin, {"email": "r@example.com", "tags": ["list"]})
    source = await tag_segment(admin, "list")
    act = step("contact.change_points", {"delta": 10}, name="Points")
    created = await campaign(
        admin, events=[act], edges=[edge(None, act)], sources=[{"kind": "segment", "id": source}]
    )
    await trigger(harness)
    removed = await admin.post(
        f"/api/v2/campaigns/{created['id']}/members/remove", json={"contact_ids": [who]}
    )
    assert removed.json()["removed"] == [who]
    await trigger(harness, harness.clock.now() + timedelta(hours=1))
    assert await members(admin, created["id"], "removed") == [who]
    # Restarts not allowed: an active member added again is refused...
    readded = await admin.post(
        f"/api/v2/campaigns/{created['id']}/members", json={"contact_ids": [who]}
    )
    assert readded.json()["restarted"] == [who]
    again = await admin.post(
        f"/api/v2/campaigns/{created['id']}/members", json={"contact_ids": [who]}
    )
    assert again.json()["rejected"] == {str(who): "already in the campaign"}
    assert (await admin.get(f"/api/v2/contacts/{who}")).json()["points"] == 20


async def test_allow_restart_reenters_manually_added_members(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    (who,) = await contacts(admin, {"email": "again@example.com"})
    act = step("contact.change_points", {"delta": 1})
    created = await campaign(admin, events=[act], edges=[edge(None, act)], allow_restart=True)
    for _ in range(3):
        result = await admin.post(
            f"/api/v2/campaigns/{created['id']}/members", json={"contact_ids": [who]}
        )
        assert not result.json()["rejected"]
    assert (await admin.get(f"/api/v2/contacts/{who}")).json()["points"] == 3
    steps = (await admin.get(f"/api/v2/campaigns/{created['id']}/contacts/{who}/journey")).json()[
        "steps"
    ]
    assert [s["rotation"] for s in steps] == [1, 2, 3]


async def test_change_campaigns_moves_contacts_between_campaigns(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    (who,) = await contacts(admin, {"email": "move@example.com"})
    target_step = step("contact.change_tags", {"add": ["in-target"]})
    target = await campaign(
        admin, name="Target", events=[target_step], edges=[edge(None, target_step)]
    )
    move = step("campaign.change_campaigns", {"add": [target["id"]], "remove": ["this"]})
    never = step("contact.change_tags", {"add": ["never"]})
    origin = await campaign(
        admin, name="Origin", events=[move, never], edges=[edge(None, move), edge(move, never)]
    )
    await admin.post(f"/api/v2/campaigns/{origin['id']}/members", json={"contact_ids": [who]})
    assert await members(admin, target["id"]) == [who]
    assert await members(admin, origin["id"], "exited") == [who]
    assert (await admin.get(f"/api/v2/contacts/{who}")).json()["tags"] == ["in-target"]


async def test_adding_to_this_campaign_needs_a_delay(admin: httpx.AsyncClient) -> None:
    loop = step("campaign.change_campaigns", {"add": ["this"]})
    response = await admin.post(
        "/api/v2/campaigns", json={"name": "Loop", "events": [loop], "edges": [edge(None, loop)]}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/events/0/timing"


async def test_jump_to_step_loops_through_a_new_pass(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    (who,) = await contacts(admin, {"email": "jump@example.com"})
    score = step("contact.change_points", {"delta": 1}, name="Score")
    enough = step("contact.points", {"operator": ">=", "value": 3}, name="Enough?")
    done = step("contact.change_tags", {"add": ["done"]}, name="Done")
    wait = step(
        "contact.change_tags",
        {"add": ["looped"]},
        name="Wait",
        timing={"mode": "interval", "amount": 1, "unit": "day"},
    )
    again = step("campaign.jump_to_event", {"target": score["key"]}, name="Again")
    created = await campaign(
        admin,
        events=[score, enough, done, wait, again],
        edges=[
            edge(None, score),
            edge(score, enough),
            edge(enough, done, "yes"),
            edge(enough, wait, "no"),
            edge(wait, again),
        ],
    )
    await admin.post(f"/api/v2/campaigns/{created['id']}/members", json={"contact_ids": [who]})
    for day in range(1, 4):
        await trigger(harness, harness.clock.now() + timedelta(days=1, minutes=1))
        del day
    contact = (await admin.get(f"/api/v2/contacts/{who}")).json()
    assert contact["points"] == 3
    assert "done" in contact["tags"]
    steps = (await admin.get(f"/api/v2/campaigns/{created['id']}/contacts/{who}/journey")).json()[
        "steps"
    ]
    assert max(s["rotation"] for s in steps) == 3


async def test_a_large_intake_in_batches_side_by_side_takes_everyone_once(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    """With batches of 7 and three side by side (PostgreSQL; SQLite takes them one by one),
    80 members of a segment join once each and each gets the first step once."""
    created = await admin.post(
        "/api/v2/contacts/batch",
        json={"contacts": [{"email": f"m{i}@example.com", "tags": ["bulk"]} for i in range(80)]},
    )
    assert created.status_code == 200, created.text
    source = await tag_segment(admin, "bulk")
    points = step("contact.change_points", {"delta": 3})
    previous = campaign_service.policy
    campaign_service.configure(policy=EnginePolicy(batch_size=7, parallel_batches=3))
    try:
        journey_campaign = await campaign(
            admin,
            events=[points],
            edges=[edge(None, points)],
            sources=[{"kind": "segment", "id": source}],
        )
        summary = await trigger(harness)
        again = await trigger(harness)
    finally:
        campaign_service.configure(policy=previous)
    assert summary.joined == 80
    assert again.joined == 0
    listed_members = await admin.get(
        f"/api/v2/campaigns/{journey_campaign['id']}/members", params={"page[size]": 100}
    )
    assert listed_members.json()["meta"]["total"] == 80
    listed = (await admin.get("/api/v2/contacts", params={"page[size]": 100})).json()["data"]
    assert sorted(c["points"] for c in listed) == [3] * 80
    stats = (await admin.get(f"/api/v2/campaigns/{journey_campaign['id']}/stats")).json()
    assert stats[points["key"]]["done"] == 80
