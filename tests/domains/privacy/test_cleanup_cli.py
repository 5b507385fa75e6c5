"""``trellis data cleanup`` as cron or an operator runs it: a real process."""

from __future__ import annotations

import json
import secrets
import zipfile
from datetime import timedelta
from pathlib import Path

import httpx

from tests.domains.campaigns.helpers import campaign, contacts, edge, journey, step, trigger
from tests.domains.privacy.helpers import SITE, from_person, page_hit
from tests.fixtures.api import START, Harness
from tests.fixtures.cli import Cli

LATER = (START + timedelta(days=400)).isoformat()


async def test_dry_run_then_run_with_progress_and_a_record(
    harness: Harness, admin: httpx.AsyncClient, cli: Cli
) -> None:
    async with from_person(harness) as browser:
        for page in ("a", "b", "c"):
            await page_hit(browser, secrets.token_hex(16), f"{SITE}/{page}")
    await harness.app.state.web_hits.flush()

    dry = cli("data", "cleanup", "--dry-run", "--policy", "tracking_events", "--now", LATER)
    assert dry.exit_code == 0, dry.output
    assert "tracking_events: would remove 3 rows (page_hits 3, tracking_hits 0" in dry.stdout
    assert len((await admin.get("/api/v2/page-hits")).json()["data"]) == 3

    ran = cli("data", "cleanup", "--policy", "tracking_events", "--now", LATER)
    assert ran.exit_code == 0, ran.output
    assert "tracking_events: removed 3 rows" in ran.stdout
    assert "Traceback" not in ran.output
    assert (await admin.get("/api/v2/page-hits")).json()["data"] == []
    runs = (await admin.get("/api/v2/privacy/cleanup/runs")).json()["data"]
    assert [(r["policy"], r["trigger"], r["dry_run"], r["rows"]) for r in runs] == [
        ("tracking_events", "cli", False, 3),
        ("tracking_events", "cli", True, 3),
    ]


async def test_only_finished_journeys_lose_their_journal(
    harness: Harness, admin: httpx.AsyncClient, cli: Cli
) -> None:
    [ada] = await contacts(admin, {"email": "ada@example.com"})
    tag = step("contact.change_tags", {"add": ["done"]}, name="Tag")
    finished = await campaign(admin, events=[tag], edges=[edge(None, tag)], name="Short")
    later = step(
        "contact.change_tags",
        {"add": ["later"]},
        name="Much later",
        timing={"mode": "interval", "amount": 1000, "unit": "day"},
    )
    waiting = await campaign(admin, events=[later], edges=[edge(None, later)], name="Long")
    for body in (finished, waiting):
        added = await admin.post(
            f"/api/v2/campaigns/{body['id']}/members", json={"contact_ids": [ada]}
        )
        assert added.status_code == 200, added.text
    await trigger(harness)
    assert await journey(admin, finished["id"], ada) == [("Tag", "done")]
    assert await journey(admin, waiting["id"], ada) == [("Much later", "scheduled")]
    before = (await admin.get(f"/api/v2/campaigns/{finished['id']}/stats")).json()

    ran = cli("data", "cleanup", "--policy", "journeys", "--now", LATER)
    assert ran.exit_code == 0, ran.output
    assert "journeys: removed 1 rows" in ran.stdout
    assert await journey(admin, finished["id"], ada) == []
    assert await journey(admin, waiting["id"], ada) == [("Much later", "scheduled")]
    # The step's counters stay.
    assert (await admin.get(f"/api/v2/campaigns/{finished['id']}/stats")).json() == before


async def test_bad_input_is_one_clear_line(harness: Harness, cli: Cli) -> None:
    unknown = cli("data", "cleanup", "--policy", "everything")
    assert unknown.exit_code == 1
    assert "unknown policy 'everything'" in unknown.stderr
    assert "Traceback" not in unknown.output
    bad_time = cli("data", "cleanup", "--now", "yesterday")
    assert bad_time.exit_code == 1
    assert "--now must be an ISO 8601 time" in bad_time.stderr
    neither = cli("data", "export", "-o", "x.zip")
    assert neither.exit_code == 1
    assert "exactly one of --contact" in neither.stderr


async def test_export_and_erase_by_email(
    harness: Harness, admin: httpx.AsyncClient, cli: Cli, tmp_path: Path
) -> None:
    [ada] = await contacts(admin, {"email": "ada@example.com", "first_name": "Ada"})
    target = tmp_path / "ada.zip"
    exported = cli("data", "export", "--email", "ADA@example.com", "-o", str(target))
    assert exported.exit_code == 0, exported.output
    with zipfile.ZipFile(target) as archive:
        assert json.loads(archive.read("contact.json"))[0]["id"] == ada
    erased = cli("data", "erase", "--email", "ada@example.com", "--yes")
    assert erased.exit_code == 0, erased.output
    assert f"erased contact {ada}" in erased.stdout
    assert (await admin.get(f"/api/v2/contacts/{ada}")).status_code == 404
    again = cli("data", "export", "--email", "ada@example.com", "-o", str(target))
    assert again.exit_code == 1
    assert "No contact with this email address." in again.stderr
