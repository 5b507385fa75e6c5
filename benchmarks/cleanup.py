"""Retention clean-up: how fast expired rows go, and what live traffic notices meanwhile.

    uv run python benchmarks/cleanup.py [--rows N] [--db URL] [--rate R] [--duration S]
                                        [--batch-size B] [--pause-ms P]

Starts ``trellis serve`` (background services on, as a default installation runs; the
scheduled clean-up off so that only the measured run deletes) on a fresh database: a SQLite
file in a temporary directory, or a fresh database on the PostgreSQL server given by ``--db``.
N expired rows are inserted set-based (not timed): page hits (50 %), email open and click
hits (30 %) and track-API events (20 %), 400 days old, plus 5 % as many recent ones that must
stay.

Then the decision-latency load of ``benchmarks/decision_latency.py`` runs twice, R events a
second for S seconds through ``POST /api/v2/events``, against two sets of contacts waiting on
a "performs event" decision:

1. without a clean-up (the baseline);
2. while the clean-up of the N rows runs, started as the Settings > Data retention page's
   "Run now" does (``POST /api/v2/privacy/cleanup``: a job inside the server, deleting in
   batches of B rows, one short transaction each, P ms apart).

The clean-up's own record (rows, seconds) gives the deletion rate. Afterwards every expired
row must be gone and every recent one kept, and every decision taken, or the script exits 1.
The last stdout line is one JSON object: ``per_second`` (rows deleted per second), the
baseline's and the concurrent run's ``p50_ms``/``p95_ms``/``p99_ms``, and how long the load
overlapped the clean-up.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import decision_latency as latency
import httpx
from _common import (
    emit,
    fresh_database,
    is_postgres,
    log,
    peak_rss_mb,
    process_peak_rss_mb,
    serving,
)
from sqlalchemy import text

from trellis.db.session import Database, create_engine
from trellis.settings import normalise_database_url

OLD = datetime.now(UTC) - timedelta(days=400)
RECENT = datetime.now(UTC) - timedelta(days=1)
SHARES = (("page_hits", 0.5), ("tracking_hits", 0.3), ("contact_events", 0.2))


def _stamp(database: Database, at: datetime) -> Any:
    return at if database.dialect == "postgresql" else at.strftime("%Y-%m-%d %H:%M:%S.%f")


def _series(database: Database, count: int) -> str:
    """A FROM clause yielding n = 1..count."""
    if database.dialect == "postgresql":
        return f"generate_series(1, {int(count)}) AS s(n)"
    return (
        f"(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {int(count)})"
        " SELECT n FROM s) AS s"
    )


async def seed(url: str, *, contacts: int, rows: int) -> tuple[list[int], dict[str, int]]:
    """Contacts to wait on the decision, and the expired and recent rows; (contact ids,
    recent rows per table)."""
    database = Database(create_engine(url))
    now = datetime.now(UTC)
    recent_counts: dict[str, int] = {}
    try:
        async with database.unit_of_work() as session:
            stamp = _stamp(database, now)
            await session.execute(
                text(
                    "INSERT INTO contacts (email, first_name, last_name, points, fields, "
                    "is_anonymous, created_at, updated_at, last_active_at, version) "
                    "SELECT 'latency' || n || '@example.com', 'Contact' || n, 'Latency', 0, "
                    f"'{{}}', false, :now, :now, :now, 1 FROM {_series(database, contacts)}"
                ),
                {"now": stamp},
            )
            ids = list(
                (await session.execute(text("SELECT id FROM contacts ORDER BY id"))).scalars()
            )
            await session.execute(
                text(
                    "INSERT INTO emails (uuid, name, kind, subject, preheader, from_name, "
                    "from_address, reply_to, headers, body_format, body, language, utm, "
                    "is_published, content_version, created_at, updated_at, version) VALUES "
                    "('bench', 'Bench', 'template', 'Hi', '', '', '', '', '[]', 'html', "
                    "'<p>Hi</p>', 'en', '{}', true, 1, :now, :now, 1)"
                ),
                {"now": stamp},
            )
            await session.execute(
                text(
                    "INSERT INTO email_sends (email_id, email_version, contact_id, recipient, "
                    "to_address, kind, source, status, message_id, attempts, created_at) "
                    "SELECT id, 1, :contact, 'contact', 'latency1@example.com', 'marketing', "
                    "'test', 'sent', 'bench', 0, :now FROM emails WHERE uuid = 'bench'"
                ),
                {"contact": ids[0], "now": stamp},
            )
        for at, share_of in ((OLD, rows), (RECENT, max(1, rows // 20))):
            for table, share in SHARES:
                count = max(1, round(share_of * share))
                if at is RECENT:
                    recent_counts[table] = count
                await _insert(database, table, count, at, ids[0])
            log(f"inserted {share_of:,} rows dated {at:%Y-%m-%d}")
        if database.dialect == "postgresql":
            async with database.engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                for table, _ in SHARES:
                    await conn.execute(text(f"VACUUM ANALYZE {table}"))
    finally:
        await database.dispose()
    return ids, recent_counts


async def _insert(database: Database, table: str, count: int, at: datetime, contact: int) -> None:
    stamp = _stamp(database, at)
    part = 500_000
    for start in range(0, count, part):
        size = min(part, count - start)
        series = _series(database, size)
        statement = {
            "page_hits": "INSERT INTO page_hits (visitor_id, contact_id, site, url, url_hash, "
            "title, referrer, device, created_at) SELECT 'v' || (n % 5000), NULL, '', "
            "'https://www.example.com/p/' || n, 'h' || (n % 1000), 'Page', '', 'desktop', :at "
            f"FROM {series}",
            "tracking_hits": "INSERT INTO tracking_hits (send_id, email_id, contact_id, kind, "
            "occurred_at) SELECT (SELECT id FROM email_sends LIMIT 1), (SELECT id FROM emails "
            f"LIMIT 1), :contact, 'open', :at FROM {series}",
            "contact_events": "INSERT INTO contact_events (contact_id, name, properties, "
            f"occurred_at) SELECT :contact, 'viewed', '{{}}', :at FROM {series}",
        }[table]
        async with database.unit_of_work() as session:
            await session.execute(text(statement), {"at": stamp, "contact": contact})


async def counts(url: str) -> dict[str, tuple[int, int]]:
    """Per table: (rows older than 30 days, recent rows)."""
    database = Database(create_engine(url))
    column = {"page_hits": "created_at", "tracking_hits": "occurred_at"}
    cutoff = datetime.now(UTC) - timedelta(days=30)
    found = {}
    try:
        async with database.unit_of_work(read_only=True) as session:
            for table, _ in SHARES:
                name = column.get(table, "occurred_at")
                old = await session.scalar(
                    text(f"SELECT count(*) FROM {table} WHERE {name} < :c"),
                    {"c": _stamp(database, cutoff)},
                )
                total = await session.scalar(text(f"SELECT count(*) FROM {table}"))
                found[table] = (int(old or 0), int(total or 0) - int(old or 0))
    finally:
        await database.dispose()
    return found


async def wait_for_run(client: httpx.AsyncClient, run_id: int) -> dict[str, Any]:
    while True:
        runs = await client.get("/api/v2/privacy/cleanup/runs", params={"page[size]": 20})
        if runs.status_code == 503:  # the server sheds load while the database is busy
            await asyncio.sleep(1)
            continue
        runs.raise_for_status()
        found = [r for r in runs.json()["data"] if r["id"] == run_id]
        if found and found[0]["status"] in ("done", "failed"):
            return dict(found[0])
        await asyncio.sleep(0.25)


def summary(sent: list[latency.Sent]) -> dict[str, Any]:
    decisions = [s for s in sent if s.name == latency.DECISION_EVENT and s.error is None]
    values = [(s.finished - s.started) * 1000 for s in decisions]

    def at(share: float) -> float | None:
        found = latency.percentile(values, share)
        return round(found, 1) if found is not None else None

    starts = [s.started for s in sent]
    span = max(starts) - min(starts) if starts else 0
    return {
        "p50_ms": at(0.50),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "max_ms": round(max(values), 1) if values else None,
        "achieved_rate": round((len(sent) - 1) / span, 1) if span else None,
        "errors": len([s for s in sent if s.error is not None]),
        "not_taken": len([s for s in decisions if s.taken != 1]),
        "start": min(starts) if starts else 0.0,
        "end": max(s.finished for s in sent) if sent else 0.0,
    }


async def scenario(args: argparse.Namespace, url: str, data_dir: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRELLIS_")}
    env.update(
        TRELLIS_DATA_DIR=str(data_dir),
        TRELLIS_DATABASE__URL=url,
        TRELLIS_PRIVACY__CLEANUP_ENABLED="false",
        TRELLIS_PRIVACY__CLEANUP_BATCH_SIZE=str(args.batch_size),
        TRELLIS_PRIVACY__CLEANUP_PAUSE_MS=str(args.pause_ms),
    )
    latency.cli(env, "db", "upgrade")
    latency.cli(env, "users", "create", "--email", latency.EMAIL, "--password", "bench-pw-12345")
    token = latency.cli(env, "tokens", "create", "--user", latency.EMAIL).strip().splitlines()[-1]
    per_run = max(1, round(args.rate * args.duration))
    contact_ids, recent = await seed(url, contacts=2 * per_run, rows=args.rows)
    before = await counts(url)
    expired = sum(old for old, _ in before.values())
    log(f"{expired:,} expired rows, {sum(r for _, r in before.values()):,} recent ones")

    port = latency.free_port()
    rng = random.Random(11)
    figures: dict[str, Any] = {}
    with serving(latency.serve_command(port), env, data_dir / "serve.log") as server:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        ) as client:
            await latency.wait_ready(client, server)
            campaign = await latency.build_campaign(client, contact_ids)

            def plan(targets: list[int]) -> list[tuple[str, int]]:
                items = [(latency.DECISION_EVENT, cid) for cid in targets]
                items += [(latency.NOISE_EVENT, rng.choice(contact_ids)) for _ in targets]
                rng.shuffle(items)
                return items[:per_run]

            first, second = contact_ids[:per_run], contact_ids[per_run:]
            if args.no_load:
                first, second = [], []
            log(f"baseline: {len(plan(first)):,} events at {args.rate:g}/s, no clean-up")
            baseline = await latency.load(
                "127.0.0.1", port, token, plan(first), rate=args.rate, concurrency=args.concurrency
            )
            figures["baseline"] = summary(baseline)
            log(f"baseline p95 {figures['baseline']['p95_ms']} ms")

            log("starting the clean-up (POST /api/v2/privacy/cleanup), and the same load")
            started = time.perf_counter()
            queued = await client.post(
                "/api/v2/privacy/cleanup", json={"policies": ["tracking_events"]}
            )
            queued.raise_for_status()
            run_id = int(queued.json()[0]["id"])
            waiting = asyncio.create_task(wait_for_run(client, run_id))
            during = await latency.load(
                "127.0.0.1", port, token, plan(second), rate=args.rate, concurrency=args.concurrency
            )
            run = await waiting
            finished = time.perf_counter()
            figures["during"] = summary(during)
            figures["server_rss"] = process_peak_rss_mb(server.pid)
            stats = (await client.get(f"/api/v2/campaigns/{campaign['id']}/stats")).json()
            yes = stats["converts"]["yes"]

    after = await counts(url)
    problems: list[str] = []
    if run["status"] != "done":
        problems.append(f"clean-up {run['status']}: {run['error']}")
    for table, (old, kept) in after.items():
        if old:
            problems.append(f"{table}: {old} expired rows left")
        # The load itself records track-API events: more recent rows, never fewer.
        if kept < recent[table]:
            problems.append(f"{table}: {kept} recent rows, expected {recent[table]} or more")
    for name in ("baseline", "during"):
        if figures[name]["errors"] or figures[name]["not_taken"]:
            problems.append(
                f"{name}: {figures[name]['errors']} errors, "
                f"{figures[name]['not_taken']} decisions not taken"
            )
    decisions = [s for s in [*baseline, *during] if s.name == latency.DECISION_EVENT]
    if yes != len(decisions):
        problems.append(f"stats: {yes} yes, {len(decisions)} decision events sent")
    overlap = max(
        0.0,
        min(figures["during"]["end"], finished) - max(figures["during"]["start"], started),
    )
    load_span = figures["during"]["end"] - figures["during"]["start"]
    for name in ("baseline", "during"):
        figures[name].pop("start")
        figures[name].pop("end")
    rows, seconds = int(run["rows"]), float(run["seconds"])
    return {
        "benchmark": "cleanup",
        "db": "postgresql" if is_postgres(url) else "sqlite",
        "n": rows,
        "seconds": round(seconds, 3),
        "per_second": round(rows / seconds, 1) if seconds else None,
        "peak_rss_mb": figures["server_rss"],
        "p50_ms": figures["during"]["p50_ms"],
        "p95_ms": figures["during"]["p95_ms"],
        "p99_ms": figures["during"]["p99_ms"],
        "baseline_p50_ms": figures["baseline"]["p50_ms"],
        "baseline_p95_ms": figures["baseline"]["p95_ms"],
        "baseline_p99_ms": figures["baseline"]["p99_ms"],
        "baseline": figures["baseline"],
        "during": figures["during"],
        "load_overlap_share": round(overlap / load_span, 3) if load_span else None,
        "batch_size": args.batch_size,
        "pause_ms": args.pause_ms,
        "rate": args.rate,
        "details": run["details"],
        "client_peak_rss_mb": peak_rss_mb(),
        "ok": not problems,
        "problems": problems,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="expired rows to delete")
    parser.add_argument("--db", default=None, help="postgresql:// server URL (default: SQLite)")
    parser.add_argument("--rate", type=float, default=200.0, help="events per second")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of each load")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight")
    parser.add_argument("--batch-size", type=int, default=2000, help="rows per transaction")
    parser.add_argument("--pause-ms", type=int, default=5, help="pause between batches")
    parser.add_argument(
        "--no-load", action="store_true", help="only the clean-up: no decision-latency load"
    )
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="trellis-bench-cleanup-"))
    try:
        with fresh_database(args.db, prefix="cleanup") as url:
            if not is_postgres(url):
                url = normalise_database_url(f"sqlite:///{data_dir / 'trellis.db'}")
            figures = asyncio.run(scenario(args, url, data_dir))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    for problem in figures["problems"]:
        log(f"FAILED CHECK: {problem}")
    emit(figures)
    if not figures["ok"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
