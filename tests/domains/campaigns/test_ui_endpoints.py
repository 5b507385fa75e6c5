"""What the campaign pages read: the publish preview, the failures list, and members with the
steps they wait on (one statement per page, whatever its size)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from tests.domains.campaigns.helpers import (
    admin_rebuild,
    campaign,
    contacts,
    edge,
    segment,
    step,
    trigger,
)
from tests.fixtures.api import START, Harness
from trellis.domains.campaigns.dispatch import campaign_dispatch
from trellis.domains.campaigns.service import EnginePolicy, campaign_service
from trellis.events.base import HttpResult
from trellis.runtime.runner import RetryPolicy


async def tagged(admin: httpx.AsyncClient, tag: str) -> int:
    return await segment(
        admin, f"Tagged {tag}", [{"type": "tags", "operator": "has_any", "value": [tag]}]
    )


async def preview(admin: httpx.AsyncClient, campaign_id: int) -> dict[str, Any]:
    response = await admin.get(f"/api/v2/campaigns/{campaign_id}/publish-preview")
    assert response.status_code == 200, response.text
    return dict(response.json())


# -- publish preview ------------------------------------------------------------------------


async def test_publish_preview_counts_who_enters_and_matches_what_publishing_does(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    people = await contacts(
        admin,
        *({"email": f"p{i}@example.com", "tags": ["vip"]} for i in range(4)),
        {"email": "both@example.com", "tags": ["vip", "fan"]},
        {"email": "fan@example.com", "tags": ["fan"]},
    )
    vip, fan = await tagged(admin, "vip"), await tagged(admin, "fan")
    await admin_rebuild(harness)
    wait = step(
        "contact.change_points",
        {"delta": 1},
        name="Wait",
        timing={"mode": "interval", "amount": 1, "unit": "day"},
    )
    created = await campaign(
        admin,
        events=[wait],
        edges=[edge(None, wait)],
        sources=[{"kind": "segment", "id": vip}, {"kind": "segment", "id": fan}],
        publish=False,
        name="Preview",
    )
    result = await preview(admin, created["id"])
    # Five in "vip", two in "fan", one in both: six distinct contacts enter.
    assert result == {
        "entering_now": 6,
        "sources": [
            {"kind": "segment", "id": vip, "name": "Tagged vip", "audience": "live", "count": 5},
            {"kind": "segment", "id": fan, "name": "Tagged fan", "audience": "live", "count": 2},
        ],
    }

    # One contact is already active (added by hand), one was removed by a person: neither
    # enters by the segment again.
    active, removed = people[0], people[1]
    await admin.post(
        f"/api/v2/campaigns/{created['id']}/members", json={"contact_ids": [active, removed]}
    )
    await admin.post(
        f"/api/v2/campaigns/{created['id']}/members/remove", json={"contact_ids": [removed]}
    )
    assert (await preview(admin, created["id"]))["entering_now"] == 4

    published = await admin.post(f"/api/v2/campaigns/{created['id']}/publish")
    assert published.status_code == 200
    summary = await trigger(harness)
    assert summary.joined == 4
    # Once everyone entered, nobody is left to enter.
    assert (await preview(admin, created["id"]))["entering_now"] == 0


async def test_publish_preview_of_a_locked_audience_and_outside_the_publish_window(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    await contacts(admin, *({"email": f"l{i}@example.com", "tags": ["vip"]} for i in range(3)))
    vip = await tagged(admin, "vip")
    await admin_rebuild(harness)
    wait = step("contact.change_points", {"delta": 1}, name="Wait")

    async def locked_at(at: Any, **settings: Any) -> dict[str, Any]:
        created = await campaign(
            admin,
            events=[wait],
            edges=[edge(None, wait)],
            sources=[{"kind": "segment", "id": vip, "audience": "locked", "locked_at": at}],
            publish=False,
            **settings,
        )
        return await preview(admin, created["id"])

    # Locked before the contacts joined the segment: nobody; after: all three; no lock time
    # yet: it would lock on publishing, now, so all three.
    before = await locked_at((START - timedelta(hours=1)).isoformat())
    assert before["entering_now"] == 0
    assert before["sources"][0]["audience"] == "locked"
    assert before["sources"][0]["count"] == 0
    assert (await locked_at((START + timedelta(hours=1)).isoformat()))["entering_now"] == 3
    assert (await locked_at(None))["entering_now"] == 3
    # A campaign whose publish window has not opened lets nobody in now.
    later = await locked_at(None, publish_up=(START + timedelta(days=2)).isoformat())
    assert later["entering_now"] == 0
    assert later["sources"][0]["count"] == 3


async def test_publish_preview_of_an_unknown_campaign_is_404(admin: httpx.AsyncClient) -> None:
    response = await admin.get("/api/v2/campaigns/999999/publish-preview")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_publish_preview_lets_exited_contacts_in_only_when_restarts_are_allowed(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    (who,) = await contacts(admin, {"email": "x@example.com", "tags": ["vip"]})
    vip = await tagged(admin, "vip")
    await admin_rebuild(harness)
    wait = step("contact.change_points", {"delta": 1}, name="Wait")
    for allow_restart, expected in ((False, 0), (True, 1)):
        created = await campaign(
            admin,
            events=[wait | {"key": f"w{int(allow_restart)}"}],
            edges=[{"source": None, "target": f"w{int(allow_restart)}"}],
            sources=[{"kind": "segment", "id": vip}],
            allow_restart=allow_restart,
        )
        await trigger(harness)
        # Unpublish, then let the contact exit the way leaving the source does.
        await admin.post(f"/api/v2/campaigns/{created['id']}/unpublish")
        async with harness.database.unit_of_work() as session:
            from trellis.domains.campaigns.repository import CampaignRepository

            await CampaignRepository(session).leave(
                created["id"], [who], status="exited", now=harness.clock.now()
            )
        assert (await preview(admin, created["id"]))["entering_now"] == expected


# -- failures --------------------------------------------------------------------------------


class FailingHttp:
    """A third-party endpoint that answers 500 until told otherwise."""

    def __init__(self) -> None:
        self.status = 500

    async def send(
        self,
        *,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: str | None,
        timeout_s: float,
    ) -> HttpResult:
        ok = self.status < 400
        return HttpResult(status=self.status, error="" if ok else f"answered {self.status}")

    async def aclose(self) -> None:
        return None


@pytest.fixture
def failing_http() -> Iterator[FailingHttp]:
    previous_http, previous_policy = campaign_service.http, campaign_service.policy
    http = FailingHttp()
    campaign_service.configure(
        http=http,
        policy=EnginePolicy(
            retry=RetryPolicy(max_attempts=3, first_delay_s=60), failure_min_volume=1000
        ),
    )
    yield http
    campaign_service.configure(http=previous_http, policy=previous_policy)


async def failures(admin: httpx.AsyncClient, campaign_id: int, **params: Any) -> dict[str, Any]:
    response = await admin.get(f"/api/v2/campaigns/{campaign_id}/failures", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_failures_list_failed_then_dead_steps_with_reason_and_a_retry_clears_them(
    harness: Harness, admin: httpx.AsyncClient, failing_http: FailingHttp
) -> None:
    (who,) = await contacts(
        admin, {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"}
    )
    fine = step("contact.change_points", {"delta": 1}, name="Fine")
    crm = step("webhook.send", {"url": "https://crm.example.test/in"}, name="Notify CRM")
    chat = step("webhook.send", {"url": "https://chat.example.test/in"}, name="Notify chat")
    created = await campaign(
        admin,
        events=[fine, crm, chat],
        edges=[edge(None, fine), edge(fine, crm), edge(fine, chat)],
    )
    await admin.post(f"/api/v2/campaigns/{created['id']}/members", json={"contact_ids": [who]})
    assert (await failures(admin, created["id"]))["data"] == []

    await trigger(harness)
    listed = await failures(admin, created["id"])
    assert listed["meta"]["total"] == 2
    # The step that worked is not a failure.
    assert {f["event_name"] for f in listed["data"]} == {"Notify CRM", "Notify chat"}
    first = next(f for f in listed["data"] if f["event_key"] == crm["key"])
    assert {k: first[k] for k in ("contact_id", "email", "name", "type", "rotation")} == {
        "contact_id": who,
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "type": "webhook.send",
        "rotation": 1,
    }
    assert (first["status"], first["attempts"], first["reason"]) == ("failed", 1, "answered 500")
    assert first["next_attempt_at"] == "2026-03-02T09:01:00Z"
    assert first["failed_at"] is None

    await trigger(harness, harness.clock.now() + timedelta(minutes=2))
    await trigger(harness, harness.clock.now() + timedelta(minutes=5))
    dead = await failures(admin, created["id"], status="dead")
    assert dead["meta"]["total"] == 2
    assert {(f["status"], f["attempts"], f["reason"]) for f in dead["data"]} == {
        ("dead", 3, "answered 500")
    }
    assert all(f["failed_at"] is not None for f in dead["data"])
    assert all(f["next_attempt_at"] is None for f in dead["data"])
    assert (await failures(admin, created["id"], status="failed"))["data"] == []
    paged = await failures(admin, created["id"], **{"page[size]": 1, "page[number]": 2})
    assert (paged["meta"]["total"], len(paged["data"])) == (2, 1)

    # Retrying one dead step (the contact page's button) takes it off the list.
    failing_http.status = 200
    retried = await admin.post(
        f"/api/v2/campaigns/{created['id']}/contacts/{who}/steps/{crm['key']}",
        json={"action": "retry"},
    )
    assert retried.status_code == 200, retried.text
    await trigger(harness)
    remaining = await failures(admin, created["id"])
    assert [f["event_key"] for f in remaining["data"]] == [chat["key"]]


async def test_several_contacts_failing_in_one_batch_are_all_listed(
    harness: Harness, admin: httpx.AsyncClient, failing_http: FailingHttp
) -> None:
    people = await contacts(admin, {"email": "a@example.com"}, {"email": "b@example.com"})
    hook = step("webhook.send", {"url": "https://hooks.example.test/in"}, name="Hook")
    created = await campaign(admin, events=[hook], edges=[edge(None, hook)])
    await admin.post(f"/api/v2/campaigns/{created['id']}/members", json={"contact_ids": people})
    await trigger(harness)
    listed = await failures(admin, created["id"], sort="contact_id")
    assert [f["contact_id"] for f in listed["data"]] == people


async def test_failures_refuse_an_unknown_status_and_sort_naming_the_parameter(
    admin: httpx.AsyncClient,
) -> None:
    wait = step("contact.change_points", {"delta": 1})
    created = await campaign(admin, events=[wait], edges=[edge(None, wait)], publish=False)
    bad_status = await admin.get(
        f"/api/v2/campaigns/{created['id']}/failures", params={"status": "broken"}
    )
    assert bad_status.status_code == 422
    assert "status" in bad_status.text
    bad_sort = await admin.get(
        f"/api/v2/campaigns/{created['id']}/failures", params={"sort": "email"}
    )
    assert bad_sort.status_code == 422
    assert "sort" in bad_sort.text


# -- members with their current step ----------------------------------------------------------


@contextmanager
def statements(harness: Harness) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    engine = harness.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_members_show_the_steps_they_wait_on_with_due_times_in_one_query_per_page(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    people = await contacts(admin, *({"email": f"m{i}@example.com"} for i in range(12)))
    first = step("contact.change_points", {"delta": 1}, name="Score")
    later = step(
        "contact.change_tags",
        {"add": ["later"]},
        name="Tag later",
        timing={"mode": "interval", "amount": 2, "unit": "day"},
    )
    created = await campaign(
        admin, events=[first, later], edges=[edge(None, first), edge(first, later)]
    )
    await admin.post(f"/api/v2/campaigns/{created['id']}/members", json={"contact_ids": people})
    await trigger(harness)

    url = f"/api/v2/campaigns/{created['id']}/members"
    response = await admin.get(url, params={"page[size]": 5, "sort": "contact_id"})
    assert response.status_code == 200
    member = response.json()["data"][0]
    assert member["contact_id"] == people[0]
    assert member["current_steps"] == ["Tag later"]
    assert member["waiting_on"] == [
        {
            "event_key": later["key"],
            "event_name": "Tag later",
            "type": "contact.change_tags",
            "status": "scheduled",
            "due_at": (START + timedelta(days=2)).isoformat().replace("+00:00", "Z"),
        }
    ]

    # The number of statements does not grow with the page: no query per member.
    with statements(harness) as small:
        await admin.get(url, params={"page[size]": 2})
    with statements(harness) as large:
        await admin.get(url, params={"page[size]": 12})
    assert len(large) == len(small)

    await trigger(harness, START + timedelta(days=3))
    done = (await admin.get(url, params={"page[size]": 1})).json()["data"][0]
    assert done["waiting_on"] == []
    assert done["current_steps"] == []


# -- changing one contact's step ------------------------------------------------------------


async def test_a_step_change_answers_with_the_journey_as_changed(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    # Contact ids differ from event ids here, so the step is looked up by its real key.
    await contacts(admin, {"email": "other1@example.com"}, {"email": "other2@example.com"})
    (who,) = await contacts(admin, {"email": "step@example.com"})
    first = step(
        "contact.change_points",
        {"delta": 1},
        name="Reminder",
        timing={"mode": "interval", "amount": 3, "unit": "day"},
    )
    created = await campaign(admin, events=[first], edges=[edge(None, first)])
    await admin.post(f"/api/v2/campaigns/{created['id']}/members", json={"contact_ids": [who]})
    url = f"/api/v2/campaigns/{created['id']}/contacts/{who}/steps/{first['key']}"

    later = START + timedelta(days=5)
    moved = await admin.post(url, json={"action": "reschedule", "due_at": later.isoformat()})
    assert moved.status_code == 200, moved.text
    assert [(s["status"], s["due_at"]) for s in moved.json()["steps"]] == [
        ("scheduled", "2026-03-07T09:00:00Z")
    ]
    missing = await admin.post(url, json={"action": "reschedule"})
    assert missing.status_code == 422
    assert "/due_at" in missing.text

    cancelled = await admin.post(url, json={"action": "cancel"})
    assert cancelled.status_code == 200, cancelled.text
    assert [s["status"] for s in cancelled.json()["steps"]] == ["cancelled"]
    again = await admin.post(url, json={"action": "cancel"})
    assert again.status_code == 409
    counts = (await admin.get(f"/api/v2/campaigns/{created['id']}/stats")).json()[first["key"]]
    assert (counts["scheduled"], counts["cancelled"]) == (0, 1)


async def test_a_campaign_published_before_its_segment_is_built_takes_every_member(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    people = await contacts(
        admin, *({"email": f"s{i}@example.com", "tags": ["vip"]} for i in range(3))
    )
    vip = await tagged(admin, "vip")
    wait = step("contact.change_points", {"delta": 1}, name="Wait")
    created = await campaign(
        admin, events=[wait], edges=[edge(None, wait)], sources=[{"kind": "segment", "id": vip}]
    )
    # The scheduler reaches the campaign before the segment's first build ...
    await campaign_dispatch.trigger(harness.database, now=harness.clock.now())
    # ... then the segment is built and the campaign follows its log of joins.
    await trigger(harness, harness.clock.now() + timedelta(seconds=5))
    listed = await admin.get(
        f"/api/v2/campaigns/{created['id']}/members", params={"sort": "contact_id"}
    )
    assert [m["contact_id"] for m in listed.json()["data"]] == people
