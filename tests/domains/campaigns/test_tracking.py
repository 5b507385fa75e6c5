"""The track API under concurrency: requests that arrive together are written together, and
each still gets its own answer."""

from __future__ import annotations

import asyncio

import httpx

from tests.domains.campaigns.helpers import campaign, contacts, edge, stats, step
from tests.fixtures.api import Harness


async def _decision_campaign(admin: httpx.AsyncClient, people: list[int]) -> tuple[int, str]:
    decision = step("contact.performs_event", {"name": "converted"})
    tag = step("contact.change_tags", {"add": ["won"]})
    points = step("contact.change_points", {"delta": 10})
    created = await campaign(
        admin,
        events=[decision, tag, points],
        edges=[
            edge(None, decision),
            edge(decision, tag, "yes"),
            edge(tag, points),
        ],
    )
    added = await admin.post(
        f"/api/v2/campaigns/{created['id']}/members", json={"contact_ids": people}
    )
    assert len(added.json()["added"]) == len(people)
    return created["id"], decision["key"]


async def test_concurrent_events_each_get_their_own_answer(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    people = await contacts(admin, *({"email": f"t{i}@example.com"} for i in range(30)))
    campaign_id, decision = await _decision_campaign(admin, people)
    requests = [
        # Every contact converts, the first ten twice (the second finds the decision taken),
        # by id or by email, mixed with noise no decision waits for and with a stranger.
        *({"contact_id": c, "name": "converted"} for c in people),
        *({"email": f"t{i}@example.com", "name": "converted"} for i in range(10)),
        *({"contact_id": c, "name": "page_viewed"} for c in people[:10]),
        {"contact_id": 999_999, "name": "converted"},
        {"email": "nobody@example.com", "name": "converted"},
    ]
    responses = await asyncio.gather(*(admin.post("/api/v2/events", json=r) for r in requests))
    answers = [(r.status_code, r.json()) for r in responses]

    converted = answers[:30] + answers[30:40]
    assert all(status == 200 for status, _ in converted)
    taken_per_contact: dict[int, int] = {}
    for _, body in converted:
        taken_per_contact[body["contact_id"]] = (
            taken_per_contact.get(body["contact_id"], 0) + body["decisions_taken"]
        )
    # A decision is taken once: whichever of a contact's two events came first took it.
    assert taken_per_contact == dict.fromkeys(people, 1)
    assert all(s == 200 and b["decisions_taken"] == 0 for s, b in answers[40:50])
    assert answers[50][0] == 422
    assert answers[50][1]["errors"][0]["pointer"] == "/contact_id"
    assert answers[51][0] == 422
    assert answers[51][1]["errors"][0]["pointer"] == "/email"

    counts = (await stats(admin, campaign_id))[decision]
    assert counts["yes"] == 30
    assert counts["waiting"] == 0
    listed = (await admin.get("/api/v2/contacts", params={"page[size]": 100})).json()["data"]
    assert sorted(c["points"] for c in listed if c["id"] in people) == [10] * 30
    assert all("won" in c["tags"] for c in listed if c["id"] in people)


async def test_a_refused_caller_in_a_batch_does_not_stop_the_others(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    people = await contacts(admin, {"email": "a@example.com"}, {"email": "b@example.com"})
    await _decision_campaign(admin, people)
    analyst = await harness.client_as("analyst@example.com", role="Analyst")
    anonymous = harness.client()
    async with analyst, anonymous:
        answers = await asyncio.gather(
            admin.post("/api/v2/events", json={"contact_id": people[0], "name": "converted"}),
            analyst.post("/api/v2/events", json={"contact_id": people[1], "name": "converted"}),
            anonymous.post("/api/v2/events", json={"contact_id": people[1], "name": "converted"}),
            admin.post("/api/v2/events", json={"contact_id": people[1], "name": "converted"}),
        )
    assert [a.status_code for a in answers] == [200, 403, 401, 200]
    assert [a.json()["decisions_taken"] for a in (answers[0], answers[3])] == [1, 1]
