"""Scenario tests: campaigns built through the API, run with a fixed clock, each contact's
journey checked step by step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select

from tests.domains.campaigns.helpers import (
    campaign,
    contacts,
    edge,
    journey,
    segment,
    stats,
    step,
    trigger,
)
from tests.fixtures.api import Harness
from trellis.db.models import PointsChange


async def test_segment_campaign_points_condition_and_tag(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    paris, lyon = await contacts(
        admin,
        {"email": "p@example.com", "last_name": "Bench", "city": "Paris"},
        {"email": "l@example.com", "last_name": "Bench", "city": "Lyon"},
    )
    source = await segment(
        admin, "Bench", [{"type": "field", "field": "last_name", "operator": "=", "value": "Bench"}]
    )
    points = step("contact.change_points", {"delta": 5}, name="Score")
    is_paris = step(
        "contact.field_value",
        {"field": "city", "operator": "=", "value": "Paris"},
        name="In Paris?",
    )
    tag = step("contact.change_tags", {"add": ["paris"]}, name="Tag")
    other = step("contact.change_tags", {"add": ["elsewhere"]}, name="Tag elsewhere")
    created = await campaign(
        admin,
        events=[points, is_paris, tag, other],
        edges=[
            edge(None, points),
            edge(points, is_paris),
            edge(is_paris, tag, "yes"),
            edge(is_paris, other, "no"),
        ],
        sources=[{"kind": "segment", "id": source}],
    )
    summary = await trigger(harness)
    assert summary.joined == 2
    assert (await admin.get(f"/api/v2/contacts/{paris}")).json()["tags"] == ["paris"]
    assert (await admin.get(f"/api/v2/contacts/{lyon}")).json()["tags"] == ["elsewhere"]
    assert (await admin.get(f"/api/v2/contacts/{lyon}")).json()["points"] == 5
    assert await journey(admin, created["id"], paris) == [
        ("Score", "done"),
        ("In Paris?", "yes"),
        ("Tag", "done"),
    ]
    counts = await stats(admin, created["id"])
    assert (counts[is_paris["key"]]["yes"], counts[is_paris["key"]]["no"]) == (1, 1)
    assert counts[points["key"]]["done"] == 2
    # Running again does nothing twice.
    again = await trigger(harness)
    assert again.executed == 0
    assert (await admin.get(f"/api/v2/contacts/{lyon}")).json()["points"] == 5
    # Each points change is in the history once, with the campaign as its source.
    async with harness.database.unit_of_work(read_only=True) as session:
        history = (
            await session.execute(
                select(
                    PointsChange.contact_id,
                    PointsChange.delta,
                    PointsChange.source_type,
                    PointsChange.source_id,
                    PointsChange.reason,
                )
            )
        ).all()
    assert sorted(history) == [
        (contact, 5, "campaign", created["id"], "Campaign step: Score")
        for contact in sorted([paris, lyon])
    ]


async def test_interval_with_hour_in_the_contact_timezone(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
    harness.clock.set(start)
    (tokyo,) = await contacts(admin, {"email": "t@example.com", "timezone": "Asia/Tokyo"})
    later = step(
        "contact.change_tags",
        {"add": ["followed-up"]},
        name="Follow up",
        timing={"mode": "interval", "amount": 2, "unit": "day", "at_hour": "10:00"},
    )
    created = await campaign(admin, events=[later], edges=[edge(None, later)])
    added = await admin.post(
        f"/api/v2/campaigns/{created['id']}/members", json={"contact_ids": [tokyo]}
    )
    assert added.json()["added"] == [tokyo]
    steps = (await admin.get(f"/api/v2/campaigns/{created['id']}/contacts/{tokyo}/journey")).json()[
        "steps"
    ]
    # Monday 09:00 UTC is 18:00 in Tokyo; two days later, 10:00 has passed that day, so
    # Thursday 10:00 Tokyo = Thursday 01:00 UTC.
    assert steps[0]["status"] == "scheduled"
    assert steps[0]["due_at"] == "2026-03-05T01:00:00Z"
    await trigger(harness, datetime(2026, 3, 5, 0, 59, tzinfo=UTC))
    assert (await admin.get(f"/api/v2/contacts/{tokyo}")).json()["tags"] == []
    await trigger(harness, datetime(2026, 3, 5, 1, 0, tzinfo=UTC))
    assert (await admin.get(f"/api/v2/contacts/{tokyo}")).json()["tags"] == ["followed-up"]


async def test_decision_yes_in_real_time_and_no_after_the_wait(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    fast, slow = await contacts(admin, {"email": "fast@example.com"}, {"email": "slow@example.com"})
    welcome = step("contact.change_tags", {"add": ["welcomed"]}, name="Welcome")
    trial = step(
        "contact.performs_event",
        {"name": "trial_started", "filters": [{"property": "plan", "value": "pro"}]},
        name="Starts trial",
    )
    thanks = step("contact.change_tags", {"add": ["trial"]}, name="Thanks")
    nudge = step(
        "contact.change_tags",
        {"add": ["nudged"]},
        name="Nudge",
        timing={"mode": "interval", "amount": 3, "unit": "day"},
    )
    created = await campaign(
        admin,
        events=[welcome, trial, thanks, nudge],
        edges=[
            edge(None, welcome),
            edge(welcome, trial),
            edge(trial, thanks, "yes"),
            edge(trial, nudge, "no"),
        ],
    )
    await admin.post(
        f"/api/v2/campaigns/{created['id']}/members", json={"contact_ids": [fast, slow]}
    )
    wrong_plan = await admin.post(
        "/api/v2/events",
        json={"contact_id": fast, "name": "trial_started", "properties": {"plan": "free"}},
    )
    assert wrong_plan.json()["decisions_taken"] == 0
    response = await admin.post(
        "/api/v2/events",
        json={"email": "fast@example.com", "name": "trial_started", "properties": {"plan": "pro"}},
    )
    assert response.status_code == 200, response.text
    assert response.json()["decisions_taken"] == 1
    assert "trial" in (await admin.get(f"/api/v2/contacts/{fast}")).json()["tags"]
    await trigger(harness, harness.clock.now() + timedelta(days=2))
    assert "nudged" not in (await admin.get(f"/api/v2/contacts/{slow}")).json()["tags"]
    summary = await trigger(harness, harness.clock.now() + timedelta(days=1, minutes=1))
    assert summary.decisions_expired == 1
    assert "nudged" in (await admin.get(f"/api/v2/contacts/{slow}")).json()["tags"]
    assert "nudged" not in (await admin.get(f"/api/v2/contacts/{fast}")).json()["tags"]
    assert await journey(admin, created["id"], slow) == [
        ("Welcome", "done"),
        ("Starts trial", "no"),
        ("Nudge", "done"),
    ]
    # A decision is taken once per pass: a late event does nothing.
    late = await admin.post(
        "/api/v2/events",
        json={"contact_id": slow, "name": "trial_started", "properties": {"plan": "pro"}},
    )
    assert late.json()["decisions_taken"] == 0


async def test_invalid_graphs_are_refused_with_pointers(admin: httpx.AsyncClient) -> None:
    decision = step("contact.performs_event", {"name": "x"})
    another = step("contact.performs_event", {"name": "y"})
    delete = step("contact.delete")
    after_delete = step("contact.change_points", {"delta": 1})
    immediate_no = step("contact.change_points", {"delta": 1})
    orphan = step("contact.change_points", {"delta": 1})
    bad_config = step("contact.change_points", {"delta": "lots"})
    response = await admin.post(
        "/api/v2/campaigns",
        json={
            "name": "Broken",
            "events": [decision, another, delete, after_delete, immediate_no, orphan, bad_config],
            "edges": [
                edge(None, decision),
                edge(decision, another, "yes"),
                edge(None, delete),
                edge(delete, after_delete),
                edge(decision, immediate_no, "no"),
                edge(None, bad_config),
            ],
        },
    )
    assert response.status_code == 422
    errors = {(e["pointer"], e["code"]) for e in response.json()["errors"]}
    assert ("/events/1/parent", "decision_after_decision") in errors
    assert ("/events/3/parent", "leaf_parent") in errors
    assert ("/events/4/timing", "no_path_needs_delay") in errors
    assert ("/events/5", "orphan") in errors
    assert any(p == "/events/6/config/delta" for p, _ in errors)
    validate = await admin.post(
        "/api/v2/campaigns/validate", json={"name": "Broken", "events": [orphan], "edges": []}
    )
    assert validate.status_code == 200
    assert validate.json()["valid"] is False
    missing_stage = step("contact.change_stage", {"stage_id": 987654})
    refused = await admin.post(
        "/api/v2/campaigns/validate",
        json={"name": "Ref", "events": [missing_stage], "edges": [edge(None, missing_stage)]},
    )
    assert {(e["pointer"], e["code"]) for e in refused.json()["errors"]} == {
        ("/events/0/config/stage_id", "not_found")
    }
    assert (await admin.get("/api/v2/campaigns")).json()["meta"]["total"] == 0


async def test_event_types_describe_what_the_builder_renders(admin: httpx.AsyncClient) -> None:
    listed = {t["key"]: t for t in (await admin.get("/api/v2/event-types")).json()}
    stage = listed["contact.change_stage"]
    assert stage["kind"] == "action"
    assert stage["references"] == {"stage_id": "stage"}
    assert "stage_id" in stage["schema"]["properties"]
    assert listed["contact.delete"]["leaf"] is True
    assert listed["contact.performs_event"]["behaviour"] == "event"
    assert listed["email.send"]["references"]["email_id"] == "email"
