"""Kick off a segment campaign for N contacts, from the segment build to the last step done.

    uv run python benchmarks/campaign_kickoff.py [--contacts N] [--db URL] [--batch-size B]
                                                 [--parallel-batches P]

Workload (issue 4, "Speed"): N contacts, all with last name "Bench" and half of them with city
"Paris"; a segment "last name is Bench"; a published campaign on that segment:
change points +5 -> condition "city = Paris" -> yes: add tag "paris".

The contacts are generated with set-based SQL (not timed). The timed part is what a
deployment does when the segment is built for the first time: the segment rebuild, then
``campaign_dispatch.trigger`` (membership, kickoff, every step until nothing is due). Afterwards
every contact must have 5 points and exactly the Paris half the tag, or the script exits 1.

Creates its own database: a fresh SQLite file in a temporary directory by default, or a fresh
database on the PostgreSQL server given by --db, dropped afterwards. Progress goes to stderr;
the last stdout line is one JSON object (``bytes_per_step``: the journal's storage with its
indexes divided by its rows; null on a SQLite without dbstat).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _common import (
    _admin,
    fresh_database,
    is_postgres,
    log,
    peak_rss_mb,
    report,
    sql_now,
    storage_bytes,
    wired,
)
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from trellis.actor import Actor
from trellis.db import migrate
from trellis.db.session import Database
from trellis.db.urls import normalise_database_url
from trellis.domains.campaigns.dispatch import campaign_dispatch
from trellis.domains.campaigns.schemas import CampaignWrite, TriggerSummary
from trellis.domains.campaigns.service import campaign_service
from trellis.domains.segments.schemas import SegmentCreate
from trellis.domains.segments.service import segment_service
from trellis.domains.segments.tasks import rebuild_segments

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SYSTEM = Actor.system("benchmark")
FILTERS: dict[str, Any] = {
    "match": "all",
    "conditions": [{"type": "field", "field": "last_name", "operator": "=", "value": "Bench"}],
}
POINTS, IS_PARIS, TAG = "points5", "isparis", "tagparis"


def campaign_document(segment_id: int) -> CampaignWrite:
    return CampaignWrite.model_validate(
        {
            "name": "Kickoff benchmark",
            "sources": [{"kind": "segment", "id": segment_id}],
            "events": [
                {
                    "key": POINTS,
                    "type": "contact.change_points",
                    "name": "Score",
                    "config": {"delta": 5},
                },
                {
                    "key": IS_PARIS,
                    "type": "contact.field_value",
                    "name": "In Paris?",
                    "config": {"field": "city", "operator": "=", "value": "Paris"},
                },
                {
                    "key": TAG,
                    "type": "contact.change_tags",
                    "name": "Tag Paris",
                    "config": {"add": ["paris"]},
                },
            ],
            "edges": [
                {"source": None, "target": POINTS},
                {"source": POINTS, "target": IS_PARIS},
                {"source": IS_PARIS, "target": TAG, "path": "yes"},
            ],
        }
    )


async def generate(database: Database, n: int) -> None:
    """N contacts named Bench; even ids' city is Paris, odd ones' Lyon."""
    started = time.perf_counter()
    pg = database.dialect == "postgresql"
    if pg:
        source = "SELECT g AS n FROM generate_series(1, :n) AS g"
        false = "false"
    else:
        source = (
            "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :n) "
            "SELECT n FROM s"
        )
        false = "0"
    async with database.engine.begin() as conn:
        if pg:
            await conn.execute(text("SET LOCAL synchronous_commit = off"))
        await conn.execute(
            text(
                "INSERT INTO contacts (email, first_name, last_name, city, country, points, "
                "fields, is_anonymous, created_at, updated_at, version) "
                "SELECT 'bench' || g.n || '@example.com', 'Contact' || g.n, 'Bench', "
                "CASE WHEN g.n % 2 = 0 THEN 'Paris' ELSE 'Lyon' END, 'FR', 0, '{}', "
                f"{false}, :now, :now, 1 FROM ({source}) AS g"
            ),
            {"n": n, "now": sql_now(database, NOW)},
        )
    # Statistics for the generated contacts only: the campaign and segment tables stay as a
    # fresh installation has them (never analysed), not "analysed while empty", which would
    # make PostgreSQL plan sequential scans over tables that grow to N rows during the run.
    async with database.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("ANALYZE contacts"))
    log(f"generated {n:,} contacts in {time.perf_counter() - started:.1f} s (not timed)")


async def prepare(database: Database) -> tuple[int, int]:
    """The segment (not built yet) and the published campaign on it."""
    async with database.unit_of_work() as session:
        segment = await segment_service.create(
            session,
            data=SegmentCreate(name="Bench contacts", filters=FILTERS),
            actor=SYSTEM,
            now=NOW,
        )
        campaign = await campaign_service.create(
            session, data=campaign_document(segment.id), actor=SYSTEM, now=NOW
        )
        await campaign_service.set_published(
            session, campaign.id, published=True, actor=SYSTEM, now=NOW
        )
        return segment.id, campaign.id


async def relation_sizes(database: Database) -> dict[str, int]:
    """PostgreSQL: the journal's heap and each of its indexes, in bytes."""
    async with database.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT c.relname, pg_relation_size(c.oid) FROM pg_class c "
                "WHERE c.oid = 'campaign_event_log'::regclass OR c.oid IN "
                "(SELECT indexrelid FROM pg_index WHERE indrelid = 'campaign_event_log'::regclass)"
            )
        )
        return {name: int(size) for name, size in rows.all()}


async def verify(database: Database, n: int) -> dict[str, int]:
    """Every contact has 5 points; exactly the Paris half has the tag."""
    async with database.engine.connect() as conn:

        async def count(sql: str) -> int:
            return int(await conn.scalar(text(sql)) or 0)

        tagged = (
            "EXISTS (SELECT 1 FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id "
            "WHERE ct.contact_id = contacts.id AND t.key = 'paris')"
        )
        return {
            "contacts": await count("SELECT COUNT(*) FROM contacts"),
            "with_5_points": await count("SELECT COUNT(*) FROM contacts WHERE points = 5"),
            "paris": await count("SELECT COUNT(*) FROM contacts WHERE city = 'Paris'"),
            "paris_tagged": await count(
                f"SELECT COUNT(*) FROM contacts WHERE city = 'Paris' AND {tagged}"
            ),
            "others_tagged": await count(
                f"SELECT COUNT(*) FROM contacts WHERE city <> 'Paris' AND {tagged}"
            ),
            "log_rows": await count("SELECT COUNT(*) FROM campaign_event_log"),
            "members": await count("SELECT COUNT(*) FROM campaign_members"),
        }


async def server_cpu(database: Database) -> dict[int, float] | None:
    """PostgreSQL on this host: CPU seconds used so far by this database's backends and the
    server's WAL writer, checkpointer and background writer, by process id (None elsewhere).
    Wall-clock time on a shared machine is noisy; CPU time is what a change saves."""
    if database.dialect != "postgresql":
        return None
    async with database.engine.connect() as conn:
        pids = (
            await conn.scalars(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "OR backend_type IN ('walwriter', 'checkpointer', 'background writer')"
                )
            )
        ).all()
    return process_cpu([int(p) for p in pids])


def process_cpu(pids: list[int]) -> dict[int, float] | None:
    ticks = os.sysconf("SC_CLK_TCK")
    used: dict[int, float] = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone, or the server is on another host
        used[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return used or None


def cpu_between(before: dict[int, float] | None, after: dict[int, float] | None) -> float | None:
    if before is None or after is None:
        return None
    return round(sum(v - before.get(pid, 0.0) for pid, v in after.items()), 2)


class StatementProfile:
    """Time per SQL statement (by its text) while ``active``; --sql-profile prints the top."""

    def __init__(self, database: Database) -> None:
        self.active = False
        self.totals: dict[str, list[float]] = {}
        engine = database.engine.sync_engine
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def _after(self, conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        started = conn.info["bench_started"].pop()
        if self.active:
            key = re.sub(r"(\$\d+|\?)(, (\$\d+|\?))+", "...", " ".join(statement.split()))
            entry = self.totals.setdefault(key, [0.0, 0])
            entry[0] += time.perf_counter() - started
            entry[1] += 1

    def report(self, top: int, wall: float) -> None:
        ranked = sorted(self.totals.items(), key=lambda kv: kv[1][0], reverse=True)
        in_sql = sum(v[0] for v in self.totals.values())
        log(
            f"SQL: {in_sql:.2f} s of {wall:.2f} s in {sum(v[1] for v in self.totals.values()):,}"
            " statements; top by total time:"
        )
        for statement, (seconds, calls) in ranked[:top]:
            log(f"  {seconds:8.2f} s {calls:7,}x  {statement[:260]}")


async def run(n: int, url: str, engine: dict[str, int], sql_profile: int = 0) -> dict[str, Any]:
    """``engine``: campaign settings (``TRELLIS_CAMPAIGNS__*``) in place of the defaults."""
    log(f"migrating {make_url(url).render_as_string(hide_password=True)}")
    await migrate.upgrade(url)
    async with wired(url, campaigns=engine) as application:
        return await timed_run(application.database, n, sql_profile)


async def timed_run(database: Database, n: int, sql_profile: int) -> dict[str, Any]:
    profile = StatementProfile(database) if sql_profile else None
    await generate(database, n)
    segment_id, campaign_id = await prepare(database)
    log(f"segment {segment_id} and published campaign {campaign_id} ready")

    log("timing: segment rebuild + campaign trigger")
    if profile is not None:
        profile.active = True
    db_cpu_before = await server_cpu(database)
    cpu_before = time.process_time()
    started = time.perf_counter()
    segment = (await rebuild_segments(database, now=NOW, segment_ids=[segment_id]))[0]
    if segment.error:
        raise RuntimeError(segment.error)
    segment_seconds = time.perf_counter() - started
    log(f"segment built: {segment.joined:,} joined in {segment_seconds:.2f} s")

    last = [0.0]

    def progress(summary: TriggerSummary) -> None:
        now = time.perf_counter()
        if now - last[0] >= 2.0:
            last[0] = now
            log(
                f"  trigger: {summary.joined:>10,} joined {summary.executed:>10,} steps "
                f"done {summary.scheduled:>8,} scheduled ({now - started:.1f} s)"
            )

    trigger_started = time.perf_counter()
    summary = await campaign_dispatch.trigger(
        database, now=NOW, campaign_ids=[campaign_id], progress=progress
    )
    seconds = time.perf_counter() - started
    trigger_seconds = time.perf_counter() - trigger_started
    cpu_seconds = time.process_time() - cpu_before
    db_cpu_seconds = cpu_between(db_cpu_before, await server_cpu(database))
    log(f"CPU: {cpu_seconds:.2f} s in this process, {db_cpu_seconds} s in the server")
    if profile is not None:
        profile.active = False
        profile.report(sql_profile, seconds)
    log(
        f"trigger: {summary.joined:,} joined, {summary.executed:,} executed, "
        f"{summary.failed:,} failed in {trigger_seconds:.2f} s; total {seconds:.2f} s"
    )

    checks = await verify(database, n)
    log(f"checks: {checks}")
    storage = await storage_bytes(database, "campaign_event_log")
    if database.dialect == "postgresql":
        log(f"journal storage by relation: {await relation_sizes(database)}")
    rows = checks["log_rows"]
    problems = []
    if checks["contacts"] != n or checks["with_5_points"] != n:
        problems.append(f"{checks['with_5_points']:,} of {n:,} contacts have 5 points")
    if checks["paris_tagged"] != checks["paris"] or checks["others_tagged"]:
        problems.append(
            f"{checks['paris_tagged']:,} of {checks['paris']:,} Paris contacts tagged, "
            f"{checks['others_tagged']:,} others tagged"
        )
    expected_rows = n + n + checks["paris"]
    if rows != expected_rows:
        problems.append(f"{rows:,} journal rows, expected {expected_rows:,}")
    return {
        "benchmark": "campaign_kickoff",
        "db": database.dialect,
        "n": n,
        "seconds": round(seconds, 3),
        "per_second": round(n / seconds, 1) if seconds else None,
        "peak_rss_mb": peak_rss_mb(),
        "bytes_per_step": round(storage / rows, 1) if storage is not None and rows else None,
        "segment_seconds": round(segment_seconds, 3),
        "trigger_seconds": round(trigger_seconds, 3),
        "cpu_seconds": round(cpu_seconds, 2),
        "db_cpu_seconds": db_cpu_seconds,
        "steps": rows,
        "steps_per_second": round(rows / seconds, 1) if seconds else None,
        "log_bytes": storage,
        "batch_size": campaign_service.policy.batch_size,
        "ok": not problems,
        "problems": problems,
    }


def kept_database(server: str) -> str:
    """A fresh PostgreSQL database that is left in place for inspection."""
    name = f"trellis_bench_kickoff_kept_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
    url = make_url(normalise_database_url(server)).set(database=name)
    log(f"created database {name}; it is kept (drop it with: DROP DATABASE {name})")
    return url.render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000, help="contacts to generate")
    parser.add_argument(
        "--db",
        default=None,
        help="a postgresql:// server URL (a fresh database is created and dropped); "
        "default: a temporary SQLite file",
    )
    parser.add_argument(
        "--batch-size", type=int, default=None, help="engine batch size (default: the engine's)"
    )
    parser.add_argument(
        "--parallel-batches",
        type=int,
        default=None,
        help="PostgreSQL: intake batches side by side (default: the engine's)",
    )
    parser.add_argument(
        "--sql-profile",
        type=int,
        default=0,
        metavar="TOP",
        help="time every SQL statement of the timed part and print the TOP slowest to stderr",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="PostgreSQL: keep the database afterwards (its name is printed), to EXPLAIN the "
        "statements against the real data",
    )
    args = parser.parse_args()
    engine = {
        setting: value
        for setting, value in (
            ("batch_size", args.batch_size),
            ("parallel_batches", args.parallel_batches),
        )
        if value
    }
    if args.keep and is_postgres(args.db):
        url = kept_database(args.db)
        figures = asyncio.run(run(args.contacts, url, engine, args.sql_profile))
    else:
        with fresh_database(args.db, prefix="kickoff") as url:
            figures = asyncio.run(run(args.contacts, url, engine, args.sql_profile))
    report(figures)


if __name__ == "__main__":
    main()
