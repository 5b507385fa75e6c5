"""Segment broadcasts driven over HTTP with a fixed clock: locked and live audiences,
exclusions, the marketing rules, cancelling, idempotent passes, bad input."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest

from tests.domains.broadcasts.helpers import (
    broadcast_email,
    create,
    get,
    join,
    outbox,
    people,
    recipients,
    run,
    schedule,
    segment,
)
from tests.fixtures.api import START, Harness
from trellis.db.models import ContactCategoryOptOut
from trellis.domains.emails.service import EmailService

HOUR = timedelta(hours=1)


async def test_a_locked_broadcast_sends_once_to_the_audience_at_the_start(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    email = await broadcast_email(admin)
    ids = await people(admin, "ada", "bob", "cy", "dee", "eve")
    a = await segment(admin, "A", [ids["ada"], ids["bob"], ids["dee"]])
    b = await segment(admin, "B", [ids["ada"], ids["cy"]])
    unsubscribed = await segment(admin, "Left", [ids["dee"]])
    body = await create(
        admin,
        email_id=email["id"],
        segment_ids=[a, b],
        excluded_segment_ids=[unsubscribed],
        start_at=(START + HOUR).isoformat(),
    )
    assert body["status"] == "draft"
    assert body["estimated_audience"] == 3
    assert body["segment_ids"] == sorted([a, b])
    assert body["excluded_segment_ids"] == [unsubscribed]
    scheduled = await schedule(admin, body["id"])
    assert scheduled["status"] == "scheduled"

    # Not due yet: nothing happens.
    assert (await run(harness)).broadcasts == 0
    assert await outbox(admin) == []

    harness.clock.advance(HOUR)
    summary = await run(harness)
    assert (summary.started, summary.added, summary.queued, summary.finished) == (1, 3, 3, 1)
    # Ada is in both included segments and gets one message; Dee is excluded.
    assert await outbox(admin) == ["ada@example.com", "bob@example.com", "cy@example.com"]
    done = await get(admin, body["id"])
    assert done["status"] == "sent"
    assert done["counts"] == {
        "audience": 3,
        "pending": 0,
        "sent": 3,
        "failed": 0,
        "skipped": 0,
        "cancelled": 0,
    }
    assert done["started_at"] is not None
    assert done["finished_at"] is not None
    rows = await recipients(admin, body["id"])
    assert set(rows) == {ids["ada"], ids["bob"], ids["cy"]}
    assert {r["status"] for r in rows.values()} == {"sent"}
    assert all(r["sent_at"] is not None for r in rows.values())

    # A late joiner of a locked audience gets nothing; another pass sends nothing twice.
    harness.clock.advance(HOUR)
    await join(admin, a, [ids["eve"]])
    again = await run(harness)
    assert (again.broadcasts, again.queued) == (0, 0)
    assert len(await outbox(admin)) == 3

    # Finished broadcasts cannot be edited or cancelled.
    edit = await admin.patch(f"/api/v2/broadcasts/{body['id']}", json={"name": "X"})
    assert edit.status_code == 409
    assert (await admin.post(f"/api/v2/broadcasts/{body['id']}/cancel")).status_code == 409

    audit = await admin.get("/api/v2/audit-log", params={"entity_type": "broadcast"})
    assert audit.status_code == 200, audit.text
    assert {e["action"] for e in audit.json()["data"]} == {"create", "publish"}


async def test_a_live_broadcast_picks_up_joiners_until_the_stop_time(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    email = await broadcast_email(admin)
    ids = await people(admin, "ada", "bob", "cy", "dee")
    a = await segment(admin, "A", [ids["ada"]])
    body = await create(
        admin,
        email_id=email["id"],
        segment_ids=[a],
        audience_mode="live",
        start_at=START.isoformat(),
        stop_at=(START + 3 * HOUR).isoformat(),
    )
    await schedule(admin, body["id"])
    await run(harness)
    assert await outbox(admin) == ["ada@example.com"]
    assert (await get(admin, body["id"]))["status"] == "sending"

    harness.clock.advance(HOUR)
    await join(admin, a, [ids["bob"]])
    summary = await run(harness)
    assert (summary.added, summary.queued, summary.finished) == (1, 1, 0)
    assert await outbox(admin) == ["ada@example.com", "bob@example.com"]

    # Cy joins before the stop time but no pass runs until after it: still included.
    harness.clock.advance(90 * timedelta(minutes=1))
    await join(admin, a, [ids["cy"]])
    # Dee joins after the stop time: not included.
    harness.clock.set(START + 4 * HOUR)
    await join(admin, a, [ids["dee"]])
    summary = await run(harness)
    assert (summary.added, summary.finished) == (1, 1)
    assert await outbox(admin) == ["ada@example.com", "bob@example.com", "cy@example.com"]
    done = await get(admin, body["id"])
    assert done["status"] == "sent"
    assert done["counts"]["audience"] == 3
    assert done["counts"]["sent"] == 3
    assert (await run(harness)).broadcasts == 0


async def test_rules_skip_dnc_opt_outs_and_the_frequency_cap_with_the_reason(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    first = await broadcast_email(admin, "First")
    second = await broadcast_email(admin, "Second")
    put = await admin.put(f"/api/v2/emails/{second['id']}/category", json={"category": "News"})
    assert put.status_code == 200, put.text
    ids = await people(admin, "ada", "bob", "cy", "dee")
    dnc = await admin.post(
        f"/api/v2/contacts/{ids['bob']}/dnc", json={"channel": "email", "reason": "unsubscribed"}
    )
    assert dnc.status_code == 200, dnc.text
    async with harness.database.unit_of_work() as session:
        session.add(ContactCategoryOptOut(contact_id=ids["cy"], category="News", created_at=START))
    capped = await admin.put(
        f"/api/v2/contacts/{ids['dee']}/email-frequency",
        json={"frequency_limit": 1, "frequency_days": 7},
    )
    assert capped.status_code == 200, capped.text
    everyone = await segment(admin, "All", list(ids.values()))

    # The first broadcast reaches Dee (her one email of the week) but not Bob (DNC).
    one = await create(admin, email_id=first["id"], segment_ids=[everyone])
    await schedule(admin, one["id"])
    await run(harness)
    assert await outbox(admin) == ["ada@example.com", "cy@example.com", "dee@example.com"]

    # The second: Bob on DNC, Cy opted out of its category, Dee at her cap (broadcasts count).
    two = await create(admin, email_id=second["id"], segment_ids=[everyone])
    await schedule(admin, two["id"])
    summary = await run(harness)
    assert (summary.queued, summary.skipped) == (1, 3)
    sent = await outbox(admin)
    assert sent.count("ada@example.com") == 2
    assert len(sent) == 4
    rows = await recipients(admin, two["id"])
    assert rows[ids["ada"]]["status"] == "sent"
    assert rows[ids["bob"]]["status"] == "skipped"
    assert "Do Not Contact" in rows[ids["bob"]]["reason"]
    assert rows[ids["cy"]]["status"] == "skipped"
    assert "Opted out of this email's category" in rows[ids["cy"]]["reason"]
    assert rows[ids["dee"]]["status"] == "skipped"
    assert "Frequency cap reached" in rows[ids["dee"]]["reason"]
    done = await get(admin, two["id"])
    assert done["status"] == "sent"
    assert done["counts"]["skipped"] == 3
    assert done["counts"]["sent"] == 1
    only_skipped = await admin.get(
        f"/api/v2/broadcasts/{two['id']}/recipients", params={"status": "skipped"}
    )
    assert only_skipped.json()["meta"]["total"] == 3


async def test_cancel_stops_queueing_and_drops_queued_sends(
    harness: Harness, admin: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing is delivered behind the test's back: the wake-up job is not sent.
    monkeypatch.setattr(EmailService, "_wake", staticmethod(lambda: None))
    email = await broadcast_email(admin)
    ids = await people(admin, "ada", "bob", "cy")
    a = await segment(admin, "A", [ids["ada"], ids["bob"]])
    body = await create(
        admin,
        email_id=email["id"],
        segment_ids=[a],
        audience_mode="live",
        stop_at=(START + 5 * HOUR).isoformat(),
    )
    await schedule(admin, body["id"])
    await run(harness, deliver=False)
    sending = await get(admin, body["id"])
    assert sending["status"] == "sending"
    assert sending["counts"]["pending"] == 2
    assert (
        await admin.patch(f"/api/v2/broadcasts/{body['id']}", json={"name": "X"})
    ).status_code == 409
    assert (await admin.delete(f"/api/v2/broadcasts/{body['id']}")).status_code == 409

    cancelled = await admin.post(f"/api/v2/broadcasts/{body['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["counts"]["cancelled"] == 2
    assert cancelled.json()["counts"]["pending"] == 0

    harness.clock.advance(HOUR)
    await join(admin, a, [ids["cy"]])
    summary = await run(harness)
    assert summary.broadcasts == 0
    assert await outbox(admin) == []
    rows = await recipients(admin, body["id"])
    assert set(rows) == {ids["ada"], ids["bob"]}
    assert {r["status"] for r in rows.values()} == {"cancelled"}
    assert (await admin.post(f"/api/v2/broadcasts/{body['id']}/cancel")).status_code == 409
    assert (await admin.delete(f"/api/v2/broadcasts/{body['id']}")).status_code == 204
    assert (await admin.get(f"/api/v2/broadcasts/{body['id']}")).status_code == 404


async def test_a_scheduled_broadcast_can_be_edited_and_cancelled_before_it_starts(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    email = await broadcast_email(admin)
    ids = await people(admin, "ada", "bob")
    a = await segment(admin, "A", [ids["ada"]])
    b = await segment(admin, "B", [ids["bob"]])
    body = await create(
        admin, email_id=email["id"], segment_ids=[a], start_at=(START + HOUR).isoformat()
    )
    await schedule(admin, body["id"])
    edited = await admin.patch(
        f"/api/v2/broadcasts/{body['id']}",
        json={"segment_ids": [b], "name": "Renamed"},
        headers={"If-Match": '"2"'},
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["segment_ids"] == [b]
    assert edited.json()["status"] == "scheduled"
    stale = await admin.patch(
        f"/api/v2/broadcasts/{body['id']}", json={"name": "Y"}, headers={"If-Match": '"1"'}
    )
    assert stale.status_code == 412
    listed = await admin.get("/api/v2/broadcasts", params={"status": "scheduled"})
    assert [item["name"] for item in listed.json()["data"]] == ["Renamed"]
    assert (await admin.post(f"/api/v2/broadcasts/{body['id']}/cancel")).status_code == 200
    harness.clock.advance(2 * HOUR)
    assert (await run(harness)).broadcasts == 0
    assert await outbox(admin) == []


async def test_bad_input_gets_422_with_pointers(harness: Harness, admin: httpx.AsyncClient) -> None:
    email = await broadcast_email(admin)
    template = await admin.post(
        "/api/v2/emails",
        json={"name": "T", "subject": "S", "body": "<mjml><mj-body></mj-body></mjml>"},
    )
    assert template.status_code == 201, template.text
    a = await segment(admin, "A", [])

    async def problem(body: dict[str, object]) -> list[str]:
        response = await admin.post("/api/v2/broadcasts", json={"name": "N", **body})
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        return sorted(e["pointer"] for e in response.json()["errors"])

    assert await problem(
        {"email_id": template.json()["id"], "segment_ids": [a, 999999], "excluded_segment_ids": [a]}
    ) == ["/email_id", "/excluded_segment_ids/0", "/segment_ids/1"]
    assert await problem(
        {"email_id": email["id"], "segment_ids": [a], "audience_mode": "live"}
    ) == ["/stop_at"]
    assert await problem(
        {
            "email_id": email["id"],
            "segment_ids": [a],
            "audience_mode": "live",
            "start_at": (START + 2 * HOUR).isoformat(),
            "stop_at": (START + HOUR).isoformat(),
        }
    ) == ["/stop_at"]
    assert await problem(
        {"email_id": email["id"], "segment_ids": [a], "start_at": (START - HOUR).isoformat()}
    ) == ["/start_at"]
    assert await problem({"email_id": email["id"], "segment_ids": []}) == ["/segment_ids"]
    assert await problem({"email_id": 0, "segment_ids": [a], "extra": 1}) == [
        "/email_id",
        "/extra",
    ]
    assert await problem({"email_id": email["id"], "segment_ids": [a], "stop_at": "soon"}) == [
        "/stop_at"
    ]

    # Scheduling checks again: an email unpublished since, a start time now in the past.
    body = await create(
        admin, email_id=email["id"], segment_ids=[a], start_at=(START + HOUR).isoformat()
    )
    unpublished = await admin.patch(f"/api/v2/emails/{email['id']}", json={"is_published": False})
    assert unpublished.status_code == 200, unpublished.text
    harness.clock.advance(2 * HOUR)
    refused = await admin.post(f"/api/v2/broadcasts/{body['id']}/schedule")
    assert refused.status_code == 422, refused.text
    assert sorted(e["pointer"] for e in refused.json()["errors"]) == ["/email_id", "/start_at"]
    assert (await get(admin, body["id"]))["status"] == "draft"
    assert (await admin.get("/api/v2/broadcasts/999999")).status_code == 404


async def test_two_processes_running_at_once_send_each_message_once(
    harness: Harness, admin: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trellis.db.session import Database, create_engine
    from trellis.domains.broadcasts.service import broadcast_service

    monkeypatch.setattr(broadcast_service, "batch_size", 7)
    email = await broadcast_email(admin)
    ids = await people(admin, *(f"p{i}" for i in range(30)))
    a = await segment(admin, "A", list(ids.values()))
    body = await create(admin, email_id=email["id"], segment_ids=[a])
    await schedule(admin, body["id"])
    other = Database(create_engine(harness.settings.database_url))
    try:
        now = harness.clock.now()
        first, second = await asyncio.gather(
            broadcast_service.run_due(harness.database, now=now),
            broadcast_service.run_due(other, now=now),
        )
    finally:
        await other.dispose()
    assert first.queued + second.queued == 30
    assert first.started + second.started == 1
    await run(harness)
    sent = await outbox(admin)
    assert len(sent) == 30
    assert len(set(sent)) == 30
    done = await get(admin, body["id"])
    assert done["status"] == "sent"
    assert done["counts"]["sent"] == 30


async def test_a_second_broadcast_of_the_same_email_skips_who_already_received_it(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    email = await broadcast_email(admin)
    ids = await people(admin, "ada", "bob")
    first = await segment(admin, "First", [ids["ada"]])
    both = await segment(admin, "Both", [ids["ada"], ids["bob"]])
    one = await create(admin, email_id=email["id"], segment_ids=[first])
    await schedule(admin, one["id"])
    await run(harness)
    two = await create(admin, email_id=email["id"], segment_ids=[both])
    await schedule(admin, two["id"])
    summary = await run(harness)
    assert (summary.queued, summary.skipped) == (1, 1)
    assert await outbox(admin) == ["ada@example.com", "bob@example.com"]
    rows = await recipients(admin, two["id"])
    assert rows[ids["ada"]]["status"] == "skipped"
    assert rows[ids["ada"]]["reason"] == "Already received this email."
    assert rows[ids["bob"]]["status"] == "sent"
    done = await get(admin, two["id"])
    assert done["status"] == "sent"
    assert (done["counts"]["skipped"], done["counts"]["sent"], done["counts"]["pending"]) == (
        1,
        1,
        0,
    )
    skipped = await admin.get(
        f"/api/v2/broadcasts/{two['id']}/recipients", params={"status": "skipped"}
    )
    assert [r["contact_id"] for r in skipped.json()["data"]] == [ids["ada"]]
