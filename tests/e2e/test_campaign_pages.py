"""The campaign pages in the browser: the list (clone, delete), a campaign's counts after a
CLI trigger run, its contacts and a contact's trace, failures with retry, and the campaigns
section of the contact page."""

from __future__ import annotations

import os
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server, _run_cli
from tests.e2e.helpers import api_client, log_in

pytestmark = pytest.mark.e2e


def _hex() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture
def api(base_url: str) -> Any:
    client = api_client(base_url)
    try:
        yield client
    finally:
        client.close()


def cli(server: Server, *args: str, env: dict[str, str] | None = None) -> None:
    """A `trellis` command against the server's data directory, as an operator runs it."""
    settings = env or {}
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRELLIS_")} | settings
    env["TRELLIS_DATA_DIR"] = str(server.log.parent)
    if os.environ.get("TRELLIS_DATABASE__URL"):
        env["TRELLIS_DATABASE__URL"] = os.environ["TRELLIS_DATABASE__URL"]
    _run_cli(list(args), env)


def step(type_: str, name: str, config: dict[str, Any], **timing: Any) -> dict[str, Any]:
    return {
        "key": f"{name.lower().replace(' ', '-').replace('?', '')}-{_hex()}",
        "type": type_,
        "name": name,
        "config": config,
        "timing": timing or {"mode": "immediate"},
    }


def create_campaign(
    api: httpx.Client,
    name: str,
    events: list[dict[str, Any]],
    edges: list[tuple[int | None, int, str | None]],
    *,
    sources: list[dict[str, Any]] | None = None,
    publish: bool = True,
) -> dict[str, Any]:
    response = api.post(
        "/api/v2/campaigns",
        json={
            "name": name,
            "sources": sources or [],
            "events": events,
            "edges": [
                {
                    "source": events[s]["key"] if s is not None else None,
                    "target": events[t]["key"],
                    "path": p,
                }
                for s, t, p in edges
            ],
        },
    )
    assert response.status_code == 201, response.text
    campaign = response.json()
    if publish:
        published = api.post(f"/api/v2/campaigns/{campaign['id']}/publish")
        assert published.status_code == 200, published.text
    return dict(campaign)


def create_contact(api: httpx.Client, **fields: Any) -> int:
    response = api.post("/api/v2/contacts", json=fields)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def wait_for_segment(api: httpx.Client, segment_id: int, members: int) -> None:
    """The server builds a new segment in the background; the campaign starts from it built."""
    deadline = time.monotonic() + 90  # a loaded CI machine rebuilds slowly
    while api.get(f"/api/v2/segments/{segment_id}").json()["member_count"] != members:
        assert time.monotonic() < deadline, "the segment was not built within 90 s"
        time.sleep(0.2)


def step_row(page: Page, name: str) -> Any:
    return page.get_by_role("table", name="Steps").get_by_role("row").filter(has_text=name)


def test_campaign_list_clones_and_deletes(page: Page, api: httpx.Client) -> None:
    name = f"Welcome {_hex()}"
    score = step("contact.change_points", "Score", {"delta": 1})
    create_campaign(api, name, [score], [(None, 0, None)], publish=False)
    log_in(page)

    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Campaigns"
    ).click()
    expect(page.get_by_role("heading", level=1, name="Campaigns")).to_be_visible()
    page.get_by_role("searchbox", name="Search campaigns").fill(name)
    table = page.get_by_role("table", name="All campaigns")
    row = table.get_by_role("row").filter(has=page.get_by_role("link", name=name, exact=True))
    expect(row).to_contain_text("Unpublished")

    # ListTable's row menu is named "Options" (Carbon's default), so it is found in its row.
    row.get_by_role("button", name="Options").click()
    page.get_by_role("menuitem", name="Clone").click()
    copy = f"Copy of {name}"
    expect(table.get_by_role("link", name=copy, exact=True)).to_be_visible()

    table.get_by_role("row").filter(
        has=page.get_by_role("link", name=copy, exact=True)
    ).get_by_role("button", name="Options").click()
    page.get_by_role("menuitem", name="Delete").click()
    dialog = page.get_by_role("dialog", name=f"Delete {copy}?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Delete").click()
    expect(dialog).to_be_hidden()
    expect(table.get_by_role("link", name=copy, exact=True)).to_have_count(0)
    expect(table.get_by_role("link", name=name, exact=True)).to_be_visible()


def test_campaign_page_counts_after_a_cli_run_then_contacts_and_a_trace(
    page: Page, api: httpx.Client, trellis_server: Server
) -> None:
    tag = f"journey{_hex()}"
    people = {
        "Paris One": create_contact(
            api, email=f"p1.{tag}@example.com", first_name="Paris", last_name="One",
            city="Paris", tags=[tag],
        ),
        "Paris Two": create_contact(
            api, email=f"p2.{tag}@example.com", first_name="Paris", last_name="Two",
            city="Paris", tags=[tag],
        ),
        "Lyon Three": create_contact(
            api, email=f"l3.{tag}@example.com", first_name="Lyon", last_name="Three",
            city="Lyon", tags=[tag],
        ),
    }  # fmt: skip
    segment = api.post(
        "/api/v2/segments",
        json={
            "name": f"Tagged {tag}",
            "filters": {
                "match": "all",
                "conditions": [{"type": "tags", "operator": "has_any", "value": [tag]}],
            },
        },
    )
    assert segment.status_code == 201, segment.text
    wait_for_segment(api, segment.json()["id"], 3)
    events = [
        step("contact.change_points", "Score", {"delta": 5}),
        step(
            "contact.field_value", "In Paris?", {"field": "city", "operator": "=", "value": "Paris"}
        ),
        step("contact.change_tags", "Tag Paris", {"add": ["paris"]}),
        step(
            "contact.change_points", "Follow up", {"delta": 1}, mode="interval", amount=3,
            unit="day",
        ),
    ]  # fmt: skip
    name = f"Paris journey {tag}"
    campaign = create_campaign(
        api,
        name,
        events,
        [(None, 0, None), (0, 1, None), (1, 2, "yes"), (1, 3, "no")],
        sources=[{"kind": "segment", "id": segment.json()["id"]}],
    )
    # What an operator would run; the server's own loop may have done part of it already, and
    # either way every step happens once.
    cli(trellis_server, "segments", "update")
    cli(trellis_server, "campaigns", "trigger", "--campaign", str(campaign["id"]))

    log_in(page)
    page.goto(f"/campaigns/{campaign['id']}")
    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()
    expect(page.get_by_text("Published", exact=True)).to_be_visible()
    expect(step_row(page, "Score").locator('[data-count="done"]')).to_have_text("3")
    expect(step_row(page, "In Paris?").locator('[data-count="yes"]')).to_have_text("2 (67%)")
    expect(step_row(page, "In Paris?").locator('[data-count="no"]')).to_have_text("1 (33%)")
    expect(step_row(page, "Tag Paris").locator('[data-count="done"]')).to_have_text("2")
    expect(step_row(page, "In Paris?").locator('[data-count="decided"]')).to_have_text(
        "of 3 decided"
    )
    expect(step_row(page, "Follow up").locator('[data-count="pending"]')).to_have_text("1")
    # The canvas shows the counts on its nodes too.
    canvas = page.get_by_role("region", name="Campaign canvas with counts")
    expect(canvas.locator('[data-count="yes"]').first).to_contain_text("2")
    expect(canvas.locator('[data-count="decided"]').first).to_have_text("of 3 decided")
    expect(page.get_by_label("Active members: 3")).to_be_visible()

    page.get_by_role("tab", name=re.compile(r"^Contacts")).click()
    members = page.get_by_role("table", name="Contacts")
    expect(members.get_by_role("row")).to_have_count(4)  # a header and three members
    lyon = members.get_by_role("row").filter(has_text="Lyon Three")
    expect(lyon).to_contain_text(re.compile(r"Follow up \(scheduled, due "))
    expect(members.get_by_role("row").filter(has_text="Paris One")).to_contain_text(
        "Nothing waiting"
    )

    lyon.get_by_role("button", name=re.compile("Lyon Three")).click()
    expect(page.get_by_role("heading", name="Trace of Lyon Three")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"contact={people['Lyon Three']}"))
    journey = page.get_by_role("table", name="Journey")
    expect(journey.get_by_role("row").filter(has_text="Score")).to_contain_text("Done")
    expect(journey.get_by_role("row").filter(has_text="In Paris?")).to_contain_text("No")
    expect(journey.get_by_role("row").filter(has_text="Follow up")).to_contain_text("Scheduled")
    page.get_by_role("button", name="Back to contacts").click()
    expect(page.get_by_role("table", name="Contacts")).to_be_visible()

    # The audit log tab: who created and published it.
    page.get_by_role("tab", name="Audit log").click()
    audit = page.get_by_role("table", name="Audit log")
    # Newest first: the publication, then the creation. (On SQLite a deleted campaign's id can
    # be reused, and its entries then show here too, so only the latest two are checked.)
    rows = audit.get_by_role("row")
    expect(rows.nth(1).get_by_role("cell", name="publish", exact=True)).to_be_visible()
    expect(rows.nth(2).get_by_role("cell", name="create", exact=True)).to_be_visible()
    # Expanding the creation shows the steps it created, as old -> new values.
    rows.nth(2).get_by_role("button").first.click()
    expect(audit.get_by_role("list", name="Field changes")).to_contain_text("Follow up")


def test_failures_tab_lists_a_dead_webhook_and_retries_it(
    page: Page, api: httpx.Client, trellis_server: Server
) -> None:
    suffix = _hex()
    who = create_contact(
        api, email=f"hook.{suffix}@example.com", first_name="Hook", last_name=suffix
    )
    # Nothing listens on port 9 of this machine (and the SSRF guard refuses loopback anyway):
    # the call fails every time.
    hook = step("webhook.send", "Notify CRM", {"url": "http://127.0.0.1:9/hook"})
    name = f"Failing hook {suffix}"
    campaign = create_campaign(api, name, [hook], [(None, 0, None)])
    added = api.post(f"/api/v2/campaigns/{campaign['id']}/members", json={"contact_ids": [who]})
    assert added.status_code == 200, added.text
    # A run with a later --now makes the next attempt; with two attempts allowed (the
    # server's own loop may have made the first) the step is dead after at most two runs.
    start = datetime.now(UTC)
    for hours in (1, 2):
        at = (start + timedelta(hours=hours)).isoformat()
        cli(
            trellis_server,
            "campaigns",
            "trigger",
            "--campaign",
            str(campaign["id"]),
            "--now",
            at,
            env={"TRELLIS_CAMPAIGNS__MAX_ATTEMPTS": "2"},
        )
        dead = api.get(f"/api/v2/campaigns/{campaign['id']}/failures", params={"status": "dead"})
        if dead.json()["meta"]["total"]:
            break
    failures = api.get(f"/api/v2/campaigns/{campaign['id']}/failures", params={"status": "dead"})
    assert failures.json()["meta"]["total"] == 1, failures.text

    log_in(page)
    page.goto(f"/campaigns/{campaign['id']}")
    expect(page.get_by_role("tab", name="Failures (1)")).to_be_visible()
    page.get_by_role("tab", name=re.compile(r"^Failures")).click()
    table = page.get_by_role("table", name="Failures")
    row = table.get_by_role("row").filter(has_text="Notify CRM")
    expect(row).to_contain_text("Failed for good")
    expect(row.get_by_role("cell", name="2", exact=True)).to_be_visible()  # attempts

    row.get_by_role("button", name="Options").click()
    page.get_by_role("menuitem", name="Retry").click()
    expect(page.get_by_text("Step retried")).to_be_visible()
    # Back in the schedule: the server's loop tries it again at once, and it fails again,
    # this time with attempts left.
    expect(row).not_to_contain_text("Failed for good", timeout=20_000)


def test_contact_page_lists_campaigns_and_cancels_a_scheduled_step(
    page: Page, api: httpx.Client
) -> None:
    suffix = _hex()
    who = create_contact(api, email=f"ada.{suffix}@example.com", first_name="Ada", last_name=suffix)
    wait = step(
        "contact.change_points", "Reminder", {"delta": 1}, mode="interval", amount=3, unit="day"
    )
    name = f"Reminders {suffix}"
    campaign = create_campaign(api, name, [wait], [(None, 0, None)])
    added = api.post(f"/api/v2/campaigns/{campaign['id']}/members", json={"contact_ids": [who]})
    assert added.json()["added"] == [who], added.text

    log_in(page)
    page.goto(f"/contacts/{who}")
    section = page.get_by_role("region", name="Campaigns")
    expect(section.get_by_role("link", name=name)).to_be_visible()
    journey = section.get_by_role("table", name=f"Journey in {name}")
    reminder = journey.get_by_role("row").filter(has_text="Reminder")
    expect(reminder).to_contain_text("Scheduled")

    reminder.get_by_role("button", name="Cancel Reminder").click()
    dialog = page.get_by_role("dialog", name="Cancel Reminder?")
    dialog.get_by_role("button", name="Cancel step").click()
    expect(dialog).to_be_hidden()
    expect(reminder).to_contain_text("Cancelled")
    expect(reminder).to_contain_text(re.compile("cancelled by", re.I))
    assert (
        api.get(f"/api/v2/campaigns/{campaign['id']}/stats").json()[wait["key"]]["cancelled"] == 1
    )


def test_the_notifications_bell_opens_its_panel(page: Page) -> None:
    log_in(page)
    bell = page.get_by_role("button", name=re.compile(r"^Notifications"))
    bell.click()
    panel = page.get_by_label("Notifications panel")
    expect(panel.get_by_text("Notifications", exact=True)).to_be_visible()
    page.keyboard.press("Escape")
    expect(bell).to_have_attribute("aria-expanded", "false")
