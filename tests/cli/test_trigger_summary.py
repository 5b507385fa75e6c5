"""`trellis campaigns trigger` says what it did, with the journal's numbers: contacts entered,
steps executed per type (the first steps of new members included), decisions expired and
failures. The campaign is built through the API; the trigger runs as its own process."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from typing import Any

import httpx

from tests.domains.campaigns.helpers import campaign, contacts, edge, segment, step
from tests.fixtures.api import START, Harness
from tests.fixtures.cli import Cli

EXECUTED = {"done", "warned", "yes", "no"}


async def journal(
    harness: Harness, admin: httpx.AsyncClient, campaign_id: int, people: list[int]
) -> Counter[str]:
    """Executed steps by type, read from each contact's trace."""
    await harness.app.state.jobs.drain()
    counts: Counter[str] = Counter()
    for person in people:
        response = await admin.get(f"/api/v2/campaigns/{campaign_id}/contacts/{person}/journey")
        assert response.status_code == 200, response.text
        counts.update(s["type"] for s in response.json()["steps"] if s["status"] in EXECUTED)
    return counts


def run(cli: Cli, *args: str) -> tuple[dict[str, Any], str]:
    result = cli(*args)
    assert result.exit_code == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1]), result.stderr


async def test_summary_counts_what_the_journal_holds(
    harness: Harness, admin: httpx.AsyncClient, cli: Cli
) -> None:
    people = await contacts(
        admin,
        *(
            {
                "email": f"b{i}@example.com",
                "last_name": "Bench",
                "city": "Paris" if i % 2 else "Lyon",
            }
            for i in range(6)
        ),
    )
    bench = await segment(
        admin, "Bench", [{"type": "field", "field": "last_name", "operator": "=", "value": "Bench"}]
    )
    # Mautic's bench workload: +5 points, then Paris? -> tag.
    points = step("contact.change_points", {"delta": 5})
    paris = step("contact.field_value", {"field": "city", "operator": "=", "value": "Paris"})
    tag = step("contact.change_tags", {"add": ["paris"]})
    workload = await campaign(
        admin,
        events=[points, paris, tag],
        edges=[edge(None, points), edge(points, paris), edge(paris, tag, "yes")],
        sources=[{"kind": "segment", "id": bench}],
    )
    # A decision nobody takes (its no path after a day), and a webhook the guard refuses.
    waits = step("contact.performs_event", {"name": "never"})
    reminder = step(
        "contact.change_tags",
        {"add": ["reminded"]},
        timing={"mode": "interval", "amount": 1, "unit": "day"},
    )
    hook = step("webhook.send", {"url": "http://127.0.0.1:9/hook"})
    follow_up = await campaign(
        admin,
        name="Follow-up",
        events=[waits, reminder, hook],
        edges=[edge(None, waits), edge(waits, reminder, "no"), edge(None, hook)],
        sources=[{"kind": "segment", "id": bench}],
    )
    assert cli("segments", "update", "--now", START.isoformat()).exit_code == 0

    summary, said = run(cli, "campaigns", "trigger", "--now", START.isoformat())
    kickoff = await journal(harness, admin, workload["id"], people)
    assert kickoff == {
        "contact.change_points": 6,
        "contact.field_value": 6,
        "contact.change_tags": 3,
    }
    assert summary["campaigns"] == 2
    assert summary["joined"] == 12
    # The kickoff's steps are counted, not only those run from the schedule (it said 0 before).
    assert summary["steps"] == dict(kickoff)
    assert summary["executed"] == sum(kickoff.values())
    assert (summary["failed"], summary["dead"], summary["waiting"]) == (6, 0, 6)
    assert "12 contacts entered" in said
    assert "steps executed 15: contact.change_points 6, contact.change_tags 3" in said
    assert "steps failed 6 (0 for good" in said

    later, said = run(
        cli, "campaigns", "trigger", "--now", (START + timedelta(days=1, minutes=1)).isoformat()
    )
    follow = await journal(harness, admin, follow_up["id"], people)
    assert follow == {"contact.performs_event": 6, "contact.change_tags": 6}
    assert later["decisions_expired"] == 6
    assert later["steps"] == dict(follow)
    # The webhook's retries came due too and failed again.
    assert later["failed"] == 6
    assert "decisions expired 6" in said


async def test_until_walks_simulated_time_in_one_process(
    harness: Harness, admin: httpx.AsyncClient, cli: Cli
) -> None:
    """`--now T --until T2 --step 1h` runs what is due at each hour, as hourly cron runs would,
    in one process: a three-day journey completes, each step at its hour."""
    (person,) = await contacts(admin, {"email": "walk@example.com", "timezone": "UTC"})
    day1 = step(
        "contact.change_tags",
        {"add": ["day-1"]},
        timing={"mode": "interval", "amount": 1, "unit": "day"},
    )
    day3 = step(
        "contact.change_tags",
        {"add": ["day-3"]},
        timing={"mode": "interval", "amount": 2, "unit": "day", "at_hour": "09:00"},
    )
    walk = await campaign(admin, events=[day1, day3], edges=[edge(None, day1), edge(day1, day3)])
    added = await admin.post(
        f"/api/v2/campaigns/{walk['id']}/members", json={"contact_ids": [person]}
    )
    assert added.status_code < 300, added.text
    summary, said = run(
        cli,
        "campaigns",
        "trigger",
        "--now",
        START.isoformat(),
        "--until",
        (START + timedelta(days=4)).isoformat(),
        "--step",
        "1h",
    )
    assert summary["steps"] == {"contact.change_tags": 2}
    assert (summary["executed"], summary["scheduled"]) == (2, 1)
    await harness.app.state.jobs.drain()
    trace = (await admin.get(f"/api/v2/campaigns/{walk['id']}/contacts/{person}/journey")).json()[
        "steps"
    ]
    done = {s["event_key"]: s["done_at"] for s in trace}
    # START is a Monday 09:00 UTC: day 1 at Tuesday 09:00, day 3 two days later at 09:00.
    assert done[day1["key"]] == (START + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert done[day3["key"]] == (START + timedelta(days=3)).isoformat().replace("+00:00", "Z")
    assert f"{START + timedelta(days=1):%Y-%m-%d %H:%M}: 0 entered, 1 steps executed" in said


def test_until_refuses_a_bad_step(cli: Cli) -> None:
    result = cli("campaigns", "trigger", "--until", "2030-01-01T00:00:00Z", "--step", "soon")
    assert result.exit_code == 1
    assert (
        "--step must be a positive number of s, m, h or d such as 1h, not 'soon'" in result.stderr
    )
