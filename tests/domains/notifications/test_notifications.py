"""Notifications: each user's inbox of things that need a look (a campaign paused, say)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from tests.fixtures.api import Harness
from trellis.domains.notifications.service import notification_service

API = "/api/v2"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


async def test_each_user_reads_and_marks_only_their_own(harness: Harness) -> None:
    ann_id = await harness.create_user("ann@example.com", role="Marketer")
    ben_id = await harness.create_user("ben@example.com", role="Marketer")
    async with harness.database.unit_of_work() as session:
        await notification_service.notify(
            session, user_ids=[ann_id], kind="campaign_paused", title="Paused", now=NOW
        )
        await notification_service.notify(
            session, user_ids=[ann_id], kind="campaign_paused", title="Paused again", now=NOW
        )
        await notification_service.notify(
            session, user_ids=[ben_id], kind="campaign_paused", title="Ben's", now=NOW
        )
    ann = harness.client(token=await harness.create_token(ann_id))
    ben = harness.client(token=await harness.create_token(ben_id))

    inbox = (await ann.get(f"{API}/notifications", params={"unread": "true"})).json()
    assert sorted(n["title"] for n in inbox["data"]) == ["Paused", "Paused again"]
    first = inbox["data"][0]["id"]
    # Ben cannot mark Ann's notification: for him it does not exist.
    assert (await ben.post(f"{API}/notifications/{first}/read")).status_code == 404
    assert (await ann.post(f"{API}/notifications/{first}/read")).json() == {"marked": 1}
    unread = (await ann.get(f"{API}/notifications", params={"unread": "true"})).json()
    assert unread["meta"]["total"] == 1
    assert (await ann.post(f"{API}/notifications/read-all")).json() == {"marked": 1}
    assert (await ann.get(f"{API}/notifications", params={"unread": "true"})).json()["meta"][
        "total"
    ] == 0
    assert [n["title"] for n in (await ben.get(f"{API}/notifications")).json()["data"]] == ["Ben's"]
    await ann.aclose()
    await ben.aclose()


async def test_with_nobody_to_reach_the_administrators_are_told(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    gone = await harness.create_user("gone@example.com", role="Marketer")
    await admin.delete(f"{API}/users/{gone}")
    async with harness.database.unit_of_work() as session:
        told = await notification_service.notify(
            session, user_ids=[gone, None], kind="campaign_paused", title="Orphan", now=NOW
        )
    assert told
    titles = [n["title"] for n in (await admin.get(f"{API}/notifications")).json()["data"]]
    assert titles == ["Orphan"]
