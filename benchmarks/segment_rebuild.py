"""Rebuild a three-condition segment over N contacts.

    uv run python benchmarks/segment_rebuild.py [--contacts N] [--db URL]

Creates its own database (a fresh SQLite file in a temporary directory by default, or a
fresh database on the PostgreSQL server given by --db, dropped afterwards), generates the
contacts with set-based SQL, then times the first full rebuild of a segment with three
conditions (a custom field, points, a tag). Progress goes to stderr; the last stdout line is
one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from _common import emit, fresh_database, log, peak_rss_mb, wired
from sqlalchemy import text
from sqlalchemy.engine import make_url

from trellis.actor import Actor
from trellis.db import migrate
from trellis.db.session import Database
from trellis.domains.fields.schemas import FieldCreate
from trellis.domains.fields.service import field_service
from trellis.domains.fields.types import FieldType
from trellis.domains.segments.schemas import SegmentCreate
from trellis.domains.segments.service import segment_service
from trellis.domains.segments.tasks import rebuild_segments

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SYSTEM = Actor.system("benchmark")
FILTERS: dict[str, Any] = {
    "match": "all",
    "conditions": [
        {"type": "custom_field", "field": "plan", "operator": "in", "value": ["gold", "silver"]},
        {"type": "points", "operator": ">=", "value": 30},
        {"type": "tags", "operator": "has_any", "value": ["customer"]},
    ],
}


async def generate(database: Database, n: int) -> None:
    """N contacts: a third tagged 'customer', points 0..99, plan gold/silver/bronze/none."""
    started = time.perf_counter()
    pg = database.dialect == "postgresql"
    async with database.engine.begin() as conn:
        if pg:
            await conn.execute(text("SET LOCAL synchronous_commit = off"))
            source = "SELECT g AS n FROM generate_series(1, :n) AS g"
            fields = (
                "jsonb_build_object('plan', (ARRAY['gold','silver','bronze','none'])[g.n % 4 + 1],"
                " 'score', g.n % 50)"
            )
            ts = "CAST(:now AS timestamptz) - make_interval(mins => g.n % 100000)"
            zone = "(ARRAY['Europe/Paris','America/New_York','Asia/Tokyo',NULL])[g.n % 4 + 1]"
            false = "false"
        else:
            source = (
                "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :n) "
                "SELECT n FROM s"
            )
            fields = (
                "json_object('plan', CASE g.n % 4 WHEN 0 THEN 'gold' WHEN 1 THEN 'silver' "
                "WHEN 2 THEN 'bronze' ELSE 'none' END, 'score', g.n % 50)"
            )
            ts = "datetime(:now, '-' || (g.n % 100000) || ' minutes')"
            zone = (
                "CASE g.n % 4 WHEN 0 THEN 'Europe/Paris' WHEN 1 THEN 'America/New_York' "
                "WHEN 2 THEN 'Asia/Tokyo' ELSE NULL END"
            )
            false = "0"
        now_param = NOW if pg else NOW.strftime("%Y-%m-%d %H:%M:%S")
        await conn.execute(
            text(
                "INSERT INTO contacts (email, first_name, last_name, city, country, timezone, "
                "points, fields, is_anonymous, created_at, updated_at, version) "
                f"SELECT 'c' || g.n || '@example.com', 'First' || (g.n % 1000), "
                f"'Last' || (g.n % 5000), 'City' || (g.n % 300), 'FR', {zone}, g.n % 100, "
                f"{fields}, {false}, {ts}, {ts}, 1 FROM ({source}) AS g"
            ),
            {"n": n, "now": now_param},
        )
        log(f"inserted {n:,} contacts in {time.perf_counter() - started:.1f} s")
        await conn.execute(
            text("INSERT INTO tags (name, key, created_at) VALUES ('Customer', 'customer', :now)"),
            {"now": now_param},
        )
        await conn.execute(
            text(
                "INSERT INTO contact_tags (contact_id, tag_id) "
                "SELECT id, (SELECT id FROM tags WHERE key = 'customer') FROM contacts "
                "WHERE id % 3 = 0"
            )
        )
    async with database.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("ANALYZE"))
    log(f"generated the data in {time.perf_counter() - started:.1f} s")


async def run(n: int, url: str) -> dict[str, Any]:
    log(f"migrating {make_url(url).render_as_string(hide_password=True)}")
    await migrate.upgrade(url)
    async with wired(url) as application:
        database = application.database
        await generate(database, n)
        async with database.unit_of_work() as session:
            await field_service.create(
                session,
                data=FieldCreate(label="Plan", alias="plan", type=FieldType.TEXT),
                actor=SYSTEM,
                now=NOW,
            )
            segment = await segment_service.create(
                session,
                data=SegmentCreate(name="Warm customers", filters=FILTERS),
                actor=SYSTEM,
                now=NOW,
            )
            segment_id = segment.id
        log("counting (what the segment builder shows)")
        started = time.perf_counter()
        async with database.unit_of_work(read_only=True) as session:
            matching = await segment_service.count(session, filters=FILTERS, actor=SYSTEM, now=NOW)
        count_seconds = time.perf_counter() - started
        log(f"{matching:,} contacts match ({count_seconds:.2f} s)")

        def progress(result: Any, done: int, total: int) -> None:
            log(f"batch {done}/{total}: {result.joined:,} joined so far")

        log("rebuilding")
        started = time.perf_counter()
        results = await rebuild_segments(
            database, now=NOW, segment_ids=[segment_id], progress=progress
        )
        seconds = time.perf_counter() - started
        result = results[0]
        if result.error:
            raise RuntimeError(result.error)
        log(f"rebuilt: {result.joined:,} joined, {result.total:,} members in {seconds:.2f} s")
        started = time.perf_counter()
        again = (await rebuild_segments(database, now=NOW, segment_ids=[segment_id]))[0]
        unchanged_seconds = time.perf_counter() - started
        log(
            f"second rebuild (no change): {again.joined + again.left} changes, "
            f"{unchanged_seconds:.2f} s"
        )
        return {
            "benchmark": "segment_rebuild",
            "db": database.dialect,
            "n": n,
            "seconds": round(seconds, 3),
            "per_second": round(n / seconds, 1) if seconds else None,
            "peak_rss_mb": peak_rss_mb(),
            "joined": result.joined,
            "count_seconds": round(count_seconds, 3),
            "unchanged_rebuild_seconds": round(unchanged_seconds, 3),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000, help="contacts to generate")
    parser.add_argument(
        "--db",
        default=None,
        help="a postgresql:// server URL (a fresh database is created and dropped); "
        "default: a temporary SQLite file",
    )
    args = parser.parse_args()
    with fresh_database(args.db, prefix="segments") as url:
        figures = asyncio.run(run(args.contacts, url))
    emit(figures)


if __name__ == "__main__":
    main()
