"""Kickoff and scheduled phase of a segment campaign run by 1 and by 2 `trellis worker`
processes (PostgreSQL + a Redis broker), same data, same run.

    uv run python benchmarks/campaign_workers.py --db postgresql://postgres@127.0.0.1:5432/postgres
        [--contacts N] [--broker redis://127.0.0.1:6379/0] [--threads T] [--workers 1,2]

Workload: N contacts (last name "Bench", even ids in Paris), a segment "last name is Bench"
built before the clock starts, and a campaign on it: change points +5 -> condition "city =
Paris" -> yes: tag "paris" -> after 1 hour: points +10.

For each worker count (0: this process runs the trigger, the embedded mode), in a fresh
database: the workers are started (scheduler on, as deployed), then the campaign is published
and timed until every contact has its points and the Paris half its tag (the kickoff). Then the
hour is skipped (the scheduled steps are made due now) and the scheduled phase is timed until
the Paris half has 15 points. The workers are stopped with SIGTERM. The last stdout line is one
JSON object with both figures per count.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from _common import emit, fresh_database, log, process_peak_rss_mb, wired
from campaign_kickoff import FILTERS, SYSTEM, generate
from sqlalchemy import text

from trellis.db import migrate
from trellis.db.session import Database
from trellis.domains.campaigns.dispatch import campaign_dispatch
from trellis.domains.campaigns.schemas import CampaignWrite
from trellis.domains.campaigns.service import campaign_service
from trellis.domains.segments.schemas import SegmentCreate
from trellis.domains.segments.service import segment_service
from trellis.domains.segments.tasks import rebuild_segments


def document(segment_id: int) -> CampaignWrite:
    return CampaignWrite.model_validate(
        {
            "name": "Workers benchmark",
            "sources": [{"kind": "segment", "id": segment_id}],
            "events": [
                {"key": "points", "type": "contact.change_points", "config": {"delta": 5}},
                {
                    "key": "paris",
                    "type": "contact.field_value",
                    "config": {"field": "city", "operator": "=", "value": "Paris"},
                },
                {"key": "tag", "type": "contact.change_tags", "config": {"add": ["paris"]}},
                {
                    "key": "later",
                    "type": "contact.change_points",
                    "config": {"delta": 10},
                    "timing": {"mode": "interval", "amount": 1, "unit": "hour"},
                },
            ],
            "edges": [
                {"source": None, "target": "points"},
                {"source": "points", "target": "paris"},
                {"source": "paris", "target": "tag", "path": "yes"},
                {"source": "tag", "target": "later"},
            ],
        }
    )


async def prepare(url: str, n: int) -> int:
    """Contacts, the built segment and the (unpublished) campaign; returns the campaign."""
    await migrate.upgrade(url)
    async with wired(url) as application:
        database = application.database
        await generate(database, n)
        now = datetime.now(UTC)
        async with database.unit_of_work() as session:
            segment = await segment_service.create(
                session,
                data=SegmentCreate(name="Bench contacts", filters=FILTERS),
                actor=SYSTEM,
                now=now,
            )
            campaign = await campaign_service.create(
                session, data=document(segment.id), actor=SYSTEM, now=now
            )
        built = (await rebuild_segments(database, now=now, segment_ids=[segment.id]))[0]
        log(f"segment built: {built.joined:,} members (not timed)")
        return campaign.id


def start_workers(url: str, broker: str, count: int, threads: int | None) -> list[Any]:
    namespace = f"bench_{uuid.uuid4().hex[:8]}"
    data_dir = tempfile.mkdtemp(prefix="trellis-bench-workers-")
    env = {
        **os.environ,
        "TRELLIS_DATA_DIR": data_dir,
        "TRELLIS_DATABASE__URL": url,
        "TRELLIS_JOBS__BACKEND": "dramatiq",
        "TRELLIS_JOBS__BROKER_URL": broker,
        "TRELLIS_JOBS__NAMESPACE": namespace,
        "TRELLIS_LOGGING__LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "trellis.cli.main", "worker"]
    if threads:
        command += ["--threads", str(threads)]
    workers = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        for _ in range(count)
    ]
    for worker in workers:
        # The banner goes to stderr (the console); so do warnings, few at this log level.
        assert worker.stderr is not None
        seen = ""
        while "worker running" not in seen:
            line = worker.stderr.readline()
            if not line:
                raise RuntimeError(f"a worker did not start: {seen}")
            seen += line
        # Keep the pipe drained, or a chatty worker would block on it.
        threading.Thread(target=worker.stderr.read, daemon=True).start()
    return workers


def stop_workers(workers: list[Any]) -> list[float | None]:
    rss = [process_peak_rss_mb(w.pid) for w in workers]
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    return rss


async def wait_for(database: Database, sql: str, target: int, label: str) -> float:
    started = time.perf_counter()
    last_log = 0.0
    while True:
        async with database.engine.connect() as conn:
            count = int(await conn.scalar(text(sql)) or 0)
        elapsed = time.perf_counter() - started
        if count >= target:
            return elapsed
        if elapsed - last_log >= 5:
            last_log = elapsed
            log(f"  {label}: {count:,} of {target:,} ({elapsed:.0f} s)")
        await asyncio.sleep(0.25)


TAGGED = (
    "SELECT COUNT(*) FROM contacts WHERE city = 'Paris' AND EXISTS (SELECT 1 FROM contact_tags "
    "ct JOIN tags t ON t.id = ct.tag_id WHERE ct.contact_id = contacts.id AND t.key = 'paris')"
)


async def run_phases(url: str, campaign_id: int, n: int, *, in_process: bool) -> dict[str, float]:
    """Publish and time the kickoff, then make the scheduled steps due and time them. With
    ``in_process`` this process runs the trigger (the embedded mode) instead of workers."""
    async with wired(url) as application:
        return await timed_phases(application.database, campaign_id, n, in_process=in_process)


async def timed_phases(
    database: Database, campaign_id: int, n: int, *, in_process: bool
) -> dict[str, float]:
    paris = n // 2

    async def trigger_here() -> None:
        if in_process:
            await campaign_dispatch.trigger(database, now=datetime.now(UTC))

    started = time.perf_counter()
    async with database.unit_of_work() as session:
        await campaign_service.set_published(
            session, campaign_id, published=True, actor=SYSTEM, now=datetime.now(UTC)
        )
    await trigger_here()
    await wait_for(database, "SELECT COUNT(*) FROM contacts WHERE points >= 5", n, "points")
    await wait_for(database, TAGGED, paris, "tagged")
    kickoff = time.perf_counter() - started
    log(f"kickoff: {kickoff:.2f} s")
    async with database.engine.begin() as conn:
        scheduled = await conn.execute(
            text(
                "UPDATE campaign_event_log SET due_at = now() - interval '1 second', "
                "reached_at = reached_at - interval '1 hour' WHERE status = 1"
            )
        )
    log(f"{scheduled.rowcount:,} scheduled steps made due now")
    started = time.perf_counter()
    await trigger_here()
    await wait_for(database, "SELECT COUNT(*) FROM contacts WHERE points = 15", paris, "scheduled")
    scheduled_s = time.perf_counter() - started
    log(f"scheduled phase: {scheduled_s:.2f} s")
    async with database.engine.connect() as conn:
        duplicates = int(
            await conn.scalar(text("SELECT COUNT(*) FROM contacts WHERE points NOT IN (5, 15)"))
            or 0
        )
    return {
        "kickoff_seconds": round(kickoff, 2),
        "scheduled_seconds": round(scheduled_s, 2),
        "wrong_points": duplicates,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--db", required=True, help="a postgresql:// server URL")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--threads", type=int, default=None, help="per worker (default: settings)")
    parser.add_argument(
        "--workers",
        default="0,1,2",
        help="worker counts to run, in order (0: the in-process trigger, for comparison)",
    )
    args = parser.parse_args()
    figures: dict[str, Any] = {
        "benchmark": "campaign_workers",
        "db": "postgresql",
        "n": args.contacts,
        "threads": args.threads,
    }
    for count in (int(c) for c in args.workers.split(",")):
        with fresh_database(args.db, prefix=f"workers{count}") as url:
            campaign_id = asyncio.run(prepare(url, args.contacts))
            if count == 0:
                log("in-process trigger (no workers)")
                result = asyncio.run(run_phases(url, campaign_id, args.contacts, in_process=True))
                figures["in_process"] = result
                continue
            workers = start_workers(url, args.broker, count, args.threads)
            try:
                log(f"{count} worker(s) running")
                result = asyncio.run(run_phases(url, campaign_id, args.contacts, in_process=False))
            finally:
                rss = stop_workers(workers)
            figures[f"workers_{count}"] = {**result, "worker_peak_rss_mb": rss}
    emit(figures)


if __name__ == "__main__":
    main()
