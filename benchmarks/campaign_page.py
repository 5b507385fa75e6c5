"""Open a campaign page whose campaign has N members: the API calls the page makes.

    uv run python benchmarks/campaign_page.py [--contacts N] [--db URL] [--repeat R]

Workload (issue 5, "Speed"): N contacts (set-based SQL, not timed), all members of a published
campaign "Score -> In Paris? -> yes: Tag Paris / no: after 7 days: Follow up", as if the
campaign had run: every member scored, decided, and either tagged (Paris, even ids) or
scheduled for the follow-up (odd ids): 3.5 journal rows per member, and the step counters
filled in as the runtime keeps them. Members, journal and counters are written with set-based
SQL too (not timed).

The timed part is what the campaign page asks for when it opens, over HTTP to the application
in this process (a Bearer token, the same routes and serialisation as the browser): the
campaign document (``GET /campaigns/{id}``, with its active member count), the counts on every
node (``GET /campaigns/{id}/stats``, read from the counters, never counted from the journal),
and the first page of the contacts tab (``GET /campaigns/{id}/members``, 25 members with the step
each waits on, newest contacts first, as the tab asks; active members only in the API's default
order, most recently joined first, reads and sorts every member and is timed apart). One cold
open, then R more; the figures are the time of the three calls in a row. Target: under a
second.

Creates its own database: a fresh SQLite file in a temporary directory by default, or a fresh
database on the PostgreSQL server given by --db, dropped afterwards. Progress goes to stderr;
the last stdout line is one JSON object (``seconds``: the median open).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from _common import fresh_database, log, peak_rss_mb, report, sql_now, wired
from asgi_lifespan import LifespanManager
from campaign_kickoff import generate
from sqlalchemy import text
from sqlalchemy.engine import make_url

from trellis.actor import Actor
from trellis.clock import FixedClock
from trellis.db import migrate
from trellis.db.session import Database
from trellis.domains.campaigns.schemas import CampaignWrite
from trellis.domains.campaigns.service import campaign_service
from trellis.domains.users.schemas import TokenCreate, UserCreate
from trellis.domains.users.service import role_service, token_service, user_service
from trellis.settings import DatabaseSettings, Settings

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SYSTEM = Actor.system("benchmark")
EMAIL = "bench@example.com"
PAGE_SIZE = 25
# The contacts tab's first request (CampaignContacts.tsx): every member, newest contacts first,
# counted and ordered by the primary key. Active members only, most recently joined first (the
# API's default order) reads every member's row; timed apart as ``members_by_joined_p50_ms``.
MEMBERS_QUERY = {"page[size]": PAGE_SIZE, "sort": "-contact_id"}
TARGET_S = 1.0
# Statuses of campaign_event_log (trellis.runtime.journal.Status).
SCHEDULED, DONE, YES, NO = 1, 4, 7, 8


def campaign_document() -> CampaignWrite:
    return CampaignWrite.model_validate(
        {
            "name": "Campaign page benchmark",
            "events": [
                {"key": "score", "type": "contact.change_points", "name": "Score",
                 "config": {"delta": 5}},
                {"key": "paris", "type": "contact.field_value", "name": "In Paris?",
                 "config": {"field": "city", "operator": "=", "value": "Paris"}},
                {"key": "tag", "type": "contact.change_tags", "name": "Tag Paris",
                 "config": {"add": ["paris"]}},
                {"key": "later", "type": "contact.change_points", "name": "Follow up",
                 "config": {"delta": 1},
                 "timing": {"mode": "interval", "amount": 7, "unit": "day"}},
            ],
            "edges": [
                {"source": None, "target": "score"},
                {"source": "score", "target": "paris"},
                {"source": "paris", "target": "tag", "path": "yes"},
                {"source": "paris", "target": "later", "path": "no"},
            ],
        }
    )  # fmt: skip


async def prepare(database: Database) -> tuple[int, str]:
    """The published campaign, and an administrator's API token."""
    async with database.unit_of_work() as session:
        await role_service.ensure_builtin(session, now=NOW)
        role = await role_service.by_name(session, "Administrator")
        assert role is not None
        user = await user_service.create(
            session,
            data=UserCreate(email=EMAIL, password="Bench-pass-123", role_id=role.id),
            actor=SYSTEM,
            now=NOW,
        )
        _, token = await token_service.create(
            session,
            data=TokenCreate(name="benchmark", scopes=[]),
            actor=SYSTEM,
            now=NOW,
            for_user_id=user.id,
        )
        campaign = await campaign_service.create(
            session, data=campaign_document(), actor=SYSTEM, now=NOW
        )
        await campaign_service.set_published(
            session, campaign.id, published=True, actor=SYSTEM, now=NOW
        )
        return campaign.id, token


async def fill(database: Database, campaign_id: int) -> dict[str, int]:
    """Members, their journeys and the step counters, as a run of the campaign leaves them."""
    started = time.perf_counter()
    pg = database.dialect == "postgresql"
    false = "false" if pg else "0"
    now = sql_now(database, NOW)
    due = sql_now(database, NOW + timedelta(days=7))
    async with database.engine.begin() as conn:
        if pg:
            await conn.execute(text("SET LOCAL synchronous_commit = off"))
        ids = {
            key: int(event_id)
            for key, event_id in (
                await conn.execute(
                    text("SELECT uuid, id FROM campaign_events WHERE campaign_id = :c"),
                    {"c": campaign_id},
                )
            ).all()
        }
        await conn.execute(
            text(
                "INSERT INTO campaign_members (campaign_id, contact_id, rotation, status, "
                "manually_added, joined_at) "
                f"SELECT :c, id, 1, 'active', {false}, :now FROM contacts"
            ),
            {"c": campaign_id, "now": now},
        )
        log("members inserted")
        steps = [
            ("score", "1 = 1", DONE, "NULL", ":now"),
            ("paris", "id % 2 = 0", YES, "NULL", ":now"),
            ("paris", "id % 2 = 1", NO, "NULL", ":now"),
            ("tag", "id % 2 = 0", DONE, "NULL", ":now"),
            ("later", "id % 2 = 1", SCHEDULED, ":due", "NULL"),
        ]
        for key, where, status, due_at, done_at in steps:
            await conn.execute(
                text(
                    "INSERT INTO campaign_event_log (contact_id, event_id, rotation, "
                    "campaign_id, due_at, reached_at, done_at, status, attempts) "
                    f"SELECT id, :e, 1, :c, {due_at}, :now, {done_at}, :s, 0 FROM contacts "
                    f"WHERE {where}"
                ),
                {"e": ids[key], "c": campaign_id, "now": now, "due": due, "s": status},
            )
            log(f"journal rows for {key} (status {status}) inserted")
        count = "SELECT COUNT(*) FROM contacts"
        counts = {
            "members": int(await conn.scalar(text(count)) or 0),
            "even": int(await conn.scalar(text(f"{count} WHERE id % 2 = 0")) or 0),
        }
        odd = counts["members"] - counts["even"]
        counters = {
            "score": {"done": counts["members"]},
            "paris": {"yes": counts["even"], "no": odd},
            "tag": {"done": counts["even"]},
            "later": {"scheduled": odd},
        }
        for key, values in counters.items():
            assignments = ", ".join(f"{column} = :{column}" for column in values)
            await conn.execute(
                text(f"UPDATE campaign_event_stats SET {assignments} WHERE event_id = :e"),
                {**values, "e": ids[key]},
            )
    async with database.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        for table in ("campaign_members", "campaign_event_log", "campaign_event_stats"):
            await conn.execute(text(f"ANALYZE {table}"))
    log(f"campaign filled in {time.perf_counter() - started:.1f} s (not timed)")
    return counts


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


async def open_page(client: httpx.AsyncClient, campaign_id: int) -> dict[str, float]:
    """The page's calls in the order it makes them; seconds per call and in total."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    for name, url, params in (
        ("campaign", f"/api/v2/campaigns/{campaign_id}", None),
        ("stats", f"/api/v2/campaigns/{campaign_id}/stats", None),
        ("members", f"/api/v2/campaigns/{campaign_id}/members", MEMBERS_QUERY),
    ):
        call_started = time.perf_counter()
        response = await client.get(url, params=params)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: {response.status_code} {response.text[:500]}")
        timings[name] = time.perf_counter() - call_started
        timings[f"{name}_body"] = response.json()  # type: ignore[assignment]
    timings["total"] = time.perf_counter() - started
    return timings


async def run(n: int, url: str, repeat: int) -> dict[str, Any]:
    log(f"migrating {make_url(url).render_as_string(hide_password=True)}")
    await migrate.upgrade(url)
    async with wired(url) as application:
        database = application.database
        await generate(database, n)
        campaign_id, token = await prepare(database)
        counts = await fill(database, campaign_id)
        with tempfile.TemporaryDirectory(prefix="trellis-bench-page-") as tmp:
            settings = Settings(
                data_dir=Path(tmp),
                database=DatabaseSettings(url=url),
                base_url="http://bench",
            )
            app = campaign_app(settings, database)
            async with (
                LifespanManager(app),
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app),
                    base_url="http://bench",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=120,
                ) as client,
            ):
                log("timing: campaign, stats, first members page (cold)")
                cold = await open_page(client, campaign_id)
                problems = check(cold, counts)
                opens = []
                for i in range(repeat):
                    opens.append(await open_page(client, campaign_id))
                    if (i + 1) % 5 == 0:
                        log(f"  {i + 1} of {repeat} opens, last {opens[-1]['total'] * 1000:.0f} ms")
                by_joined = []
                for _ in range(max(1, min(repeat, 5))):
                    started = time.perf_counter()
                    response = await client.get(
                        f"/api/v2/campaigns/{campaign_id}/members",
                        params={"page[size]": PAGE_SIZE, "status": "active"},
                    )
                    response.raise_for_status()
                    by_joined.append(time.perf_counter() - started)
        totals = [o["total"] for o in opens] or [cold["total"]]

        def ms(value: float) -> float:
            return round(value * 1000, 1)

        median = statistics.median(totals)
        figures: dict[str, Any] = {
            "benchmark": "campaign_page",
            "db": database.dialect,
            "n": n,
            "seconds": round(median, 4),
            "per_second": round(1 / median, 1) if median else None,
            "peak_rss_mb": peak_rss_mb(),
            "p50_ms": ms(median),
            "p95_ms": ms(percentile(totals, 0.95)),
            "p99_ms": ms(percentile(totals, 0.99)),
            "cold_ms": ms(cold["total"]),
            "repeat": len(opens),
        }
        for call in ("campaign", "stats", "members"):
            figures[f"{call}_p50_ms"] = ms(statistics.median(o[call] for o in opens or [cold]))
        figures["members_by_joined_p50_ms"] = ms(statistics.median(by_joined))
        figures["target_ms"] = TARGET_S * 1000
        figures["under_target"] = figures["p95_ms"] < TARGET_S * 1000
        figures["ok"] = not problems
        figures["problems"] = problems
        return figures


def campaign_app(settings: Settings, database: Database) -> Any:
    from trellis.api.app import create_app

    return create_app(settings, database=database, clock=FixedClock(NOW), run_services=False)


def check(opened: dict[str, Any], counts: dict[str, int]) -> list[str]:
    """The page shows what was written: the member count, the counters, a full first page
    with each member's current step."""
    problems = []
    campaign, stats, members = opened["campaign_body"], opened["stats_body"], opened["members_body"]
    if campaign["members"] != counts["members"]:
        problems.append(f"campaign shows {campaign['members']:,} members of {counts['members']:,}")
    if stats["paris"]["yes"] != counts["even"] or stats["score"]["done"] != counts["members"]:
        problems.append(f"stats do not match the journal: {stats}")
    if members["meta"]["total"] != counts["members"]:
        problems.append(f"members total {members['meta']['total']:,}")
    page = members["data"]
    if len(page) != min(PAGE_SIZE, counts["members"]):
        problems.append(f"first page has {len(page)} members")
    waiting = [m for m in page if m["contact_id"] % 2 == 1]
    if any([s["event_key"] for s in m["waiting_on"]] != ["later"] for m in waiting):
        problems.append("odd members do not show the follow-up as their current step")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000, help="members to generate")
    parser.add_argument(
        "--db",
        default=None,
        help="a postgresql:// server URL (a fresh database is created and dropped); "
        "default: a temporary SQLite file",
    )
    parser.add_argument("--repeat", type=int, default=20, help="timed opens after the cold one")
    args = parser.parse_args()
    with fresh_database(args.db, prefix="campaign_page") as url:
        figures = asyncio.run(run(args.contacts, url, args.repeat))
    report(figures)


if __name__ == "__main__":
    main()
