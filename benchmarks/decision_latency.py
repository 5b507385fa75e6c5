"""Latency from a tracked event to the yes-path action of a waiting decision, on a real server.

    uv run python benchmarks/decision_latency.py [--contacts N] [--rate R] [--duration S]
                                                 [--concurrency C]

Starts ``trellis serve`` (embedded SQLite in a temporary data directory, background services
on, as a default installation runs) with a user and an API token made by ``trellis users
create`` and ``trellis tokens create``. N contacts (set-based SQL, not timed) are added through
the API to a published campaign: "contact performs event bench_converted" -> yes: add tag
"converted". Then R events a second are sent through ``POST /api/v2/events`` for S seconds
(at most C in flight, over keep-alive connections): one ``bench_converted`` for each of the N
contacts, the rest ``page_viewed`` events that no decision waits for, shuffled. The yes path
runs inside the request, so the time from sending a ``bench_converted`` event to its response
(which reports ``decisions_taken``) is the time to the action done.

Afterwards the campaign stats, the contacts' tags and a sample of journeys must show every
contact converted, or the script exits 1. Progress goes to stderr; the last stdout line is one
JSON object: p50_ms/p95_ms/p99_ms of the decision events, achieved rate, the server's peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from _common import (
    HttpConnection,
    log,
    peak_rss_mb,
    process_peak_rss_mb,
    report,
    server_data,
    serving,
)

DECISION_EVENT = "bench_converted"
NOISE_EVENT = "page_viewed"
TAG = "converted"
EMAIL = "bench@example.com"


@dataclass
class Sent:
    name: str
    contact_id: int
    intended: float  # loop time it was scheduled for
    started: float = 0.0
    finished: float = 0.0
    status: int = 0
    taken: int = -1
    error: str | None = None


def serve_command(port: int) -> list[str]:
    """`trellis serve` on 127.0.0.1:port, the database already migrated; with BENCH_VARIANT
    set, with a maintained library in place of one of Trellis's own (benchmarks/_variants.py)."""
    serve = ["serve", "--host", "127.0.0.1", "--port", str(port), "--no-migrate"]
    variant = os.environ.get("BENCH_VARIANT")
    if variant:
        launcher = Path(__file__).with_name("_variants.py")
        return [sys.executable, str(launcher), variant, *serve]
    return [*trellis_command(), *serve]


def trellis_command() -> list[str]:
    script = Path(sys.executable).parent / "trellis"
    return [str(script)] if script.exists() else [sys.executable, "-m", "trellis.cli.main"]


def cli(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [*trellis_command(), *args], env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"trellis {' '.join(args[:2])} failed: {result.stderr[-2000:]}")
    return result.stdout


def api_token(env: dict[str, str]) -> str:
    """Migrate the database of ``env``, create an administrator with ``trellis users create``
    and return an API token of theirs made by ``trellis tokens create``."""
    log("migrating the database; creating a user and a token")
    cli(env, "db", "upgrade")
    cli(env, "users", "create", "--email", EMAIL, "--password", "bench-password-1234")
    created = cli(env, "tokens", "create", "--user", EMAIL, "--name", "benchmark")
    return created.strip().splitlines()[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def insert_contacts(db_file: Path, n: int) -> list[int]:
    """N contacts straight into the embedded database (setup, not timed)."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    with sqlite3.connect(db_file) as conn:
        conn.execute(
            "INSERT INTO contacts (email, first_name, last_name, city, country, points, fields, "
            "is_anonymous, created_at, updated_at, version) "
            "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ?) "
            "SELECT 'latency' || n || '@example.com', 'Contact' || n, 'Latency', 'Paris', 'FR', "
            "0, '{}', 0, ?, ?, 1 FROM s",
            (n, now, now),
        )
        return [row[0] for row in conn.execute("SELECT id FROM contacts ORDER BY id")]


def count_tagged(db_file: Path) -> int:
    with sqlite3.connect(f"file:{db_file}?mode=ro", uri=True) as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id WHERE t.key = ?",
            (TAG,),
        ).fetchone()
        return int(row[0])


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))
    return ordered[index]


async def wait_ready(client: httpx.AsyncClient, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"trellis serve exited with {server.returncode}")
        try:
            if (await client.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError("trellis serve did not become ready in 90 s")


async def build_campaign(client: httpx.AsyncClient, contact_ids: list[int]) -> dict[str, Any]:
    document = {
        "name": "Decision latency benchmark",
        "events": [
            {
                "key": "converts",
                "type": "contact.performs_event",
                "name": "Converts?",
                "config": {
                    "name": DECISION_EVENT,
                    "filters": [{"property": "plan", "value": "pro"}],
                },
            },
            {
                "key": "tag",
                "type": "contact.change_tags",
                "name": "Tag converted",
                "config": {"add": [TAG]},
            },
        ],
        "edges": [
            {"source": None, "target": "converts"},
            {"source": "converts", "target": "tag", "path": "yes"},
        ],
    }
    created = await client.post("/api/v2/campaigns", json=document)
    created.raise_for_status()
    campaign = created.json()
    (await client.post(f"/api/v2/campaigns/{campaign['id']}/publish")).raise_for_status()
    for start in range(0, len(contact_ids), 1000):
        part = contact_ids[start : start + 1000]
        added = await client.post(
            f"/api/v2/campaigns/{campaign['id']}/members", json={"contact_ids": part}
        )
        added.raise_for_status()
        if len(added.json()["added"]) != len(part):
            raise RuntimeError(f"members not added: {added.json()['rejected']}")
    keys = {e["key"]: e for e in campaign["events"]}
    stats = (await client.get(f"/api/v2/campaigns/{campaign['id']}/stats")).json()
    waiting = stats[keys["converts"]["key"]]["waiting"]
    log(f"campaign {campaign['id']}: {waiting:,} contacts waiting on the decision")
    if waiting != len(contact_ids):
        raise RuntimeError(f"{waiting} contacts waiting, expected {len(contact_ids)}")
    return dict(campaign)


async def load(
    host: str, port: int, token: str, plan: list[tuple[str, int]], *, rate: float, concurrency: int
) -> list[Sent]:
    """Send the events at a steady rate, at most ``concurrency`` in flight (one keep-alive
    connection each)."""
    loop = asyncio.get_running_loop()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    idle: asyncio.Queue[HttpConnection] = asyncio.Queue()
    for _ in range(concurrency):
        idle.put_nowait(HttpConnection(host, port, headers))
    sent: list[Sent] = []
    tasks: list[asyncio.Task[None]] = []

    async def send(item: Sent, conn: HttpConnection) -> None:
        try:
            body: dict[str, Any] = {"contact_id": item.contact_id, "name": item.name}
            body["properties"] = {"plan": "pro"} if item.name == DECISION_EVENT else {"page": "/"}
            item.started = time.perf_counter()
            status, content = await conn.request(
                "POST", "/api/v2/events", json.dumps(body).encode()
            )
            item.finished = time.perf_counter()
            item.status = status
            if status == 200:
                item.taken = int(json.loads(content)["decisions_taken"])
            else:
                item.error = content[:300].decode(errors="replace")
        except (OSError, asyncio.IncompleteReadError) as exc:
            conn.close()
            item.finished = time.perf_counter()
            item.error = repr(exc)
        finally:
            idle.put_nowait(conn)

    begin = loop.time() + 0.2
    offset = time.perf_counter() - loop.time()
    last_report = begin
    for index, (name, contact_id) in enumerate(plan):
        at = begin + index / rate
        delay = at - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        conn = await idle.get()
        item = Sent(name, contact_id, intended=at + offset)
        sent.append(item)
        tasks.append(asyncio.create_task(send(item, conn)))
        if loop.time() - last_report >= 5:
            last_report = loop.time()
            done = [s for s in sent if s.finished]
            recent = [s.finished - s.started for s in done[-int(rate * 5) :]]
            p95 = percentile(recent, 0.95) or 0
            log(f"  {len(sent):,}/{len(plan):,} sent, last 5 s p95 {p95 * 1000:.0f} ms")
    await asyncio.gather(*tasks)
    return sent


async def scenario(args: argparse.Namespace, data_dir: Path, env: dict[str, str]) -> dict[str, Any]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    token = api_token(env)
    db_file = data_dir / "trellis.db"
    contact_ids = insert_contacts(db_file, args.contacts)
    log(f"inserted {len(contact_ids):,} contacts (not timed)")

    server_rss: float | None = None
    with serving(serve_command(port), env, data_dir / "serve.log") as server:
        limits = httpx.Limits(
            max_connections=args.concurrency, max_keepalive_connections=args.concurrency
        )
        async with httpx.AsyncClient(
            base_url=base,
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
            limits=limits,
        ) as client:
            await wait_ready(client, server)
            log(f"trellis serve is up on {base} (pid {server.pid})")
            campaign = await build_campaign(client, contact_ids)

            total = max(1, round(args.rate * args.duration))
            targets = contact_ids[:total]
            rng = random.Random(7)
            plan = [(DECISION_EVENT, cid) for cid in targets]
            plan += [(NOISE_EVENT, rng.choice(contact_ids)) for _ in range(total - len(plan))]
            rng.shuffle(plan)
            log(
                f"sending {total:,} events at {args.rate:g}/s ({len(targets):,} decisions, "
                f"{total - len(targets):,} other events), at most {args.concurrency} in flight"
            )
            sent = await load(
                "127.0.0.1", port, token, plan, rate=args.rate, concurrency=args.concurrency
            )

            # -- checks
            problems: list[str] = []
            errors = [s for s in sent if s.error is not None]
            if errors:
                problems.append(f"{len(errors)} requests failed, e.g. {errors[0].error}")
            decisions = [s for s in sent if s.name == DECISION_EVENT and s.error is None]
            not_taken = [s for s in decisions if s.taken != 1]
            if not_taken:
                problems.append(f"{len(not_taken)} decision events took no decision")
            noise_taken = [s for s in sent if s.name == NOISE_EVENT and s.taken not in (0, -1)]
            if noise_taken:
                problems.append(f"{len(noise_taken)} other events took a decision")
            keys = {e["key"]: e["key"] for e in campaign["events"]}
            stats = (await client.get(f"/api/v2/campaigns/{campaign['id']}/stats")).json()
            yes, tagged_steps = stats[keys["converts"]]["yes"], stats[keys["tag"]]["done"]
            if yes != len(targets) or tagged_steps != len(targets):
                problems.append(f"stats: {yes} yes, {tagged_steps} tag steps done")
            for cid in rng.sample(targets, min(20, len(targets))):
                journey = await client.get(
                    f"/api/v2/campaigns/{campaign['id']}/contacts/{cid}/journey"
                )
                steps = [(s["event_key"], s["status"]) for s in journey.json()["steps"]]
                if steps != [("converts", "yes"), ("tag", "done")]:
                    problems.append(f"journey of contact {cid}: {steps}")
            tagged = count_tagged(db_file)
            if tagged != len(targets):
                problems.append(f"{tagged} contacts tagged, expected {len(targets)}")
            server_rss = process_peak_rss_mb(server.pid)

    latencies = [(s.finished - s.started) * 1000 for s in decisions]
    scheduled = [(s.finished - s.intended) * 1000 for s in decisions]
    every = [(s.finished - s.started) * 1000 for s in sent if s.error is None]
    starts = [s.started for s in sent]
    span = max(s.finished for s in sent) - min(starts)
    send_span = max(starts) - min(starts)

    def rounded(value: float | None) -> float | None:
        return round(value, 1) if value is not None else None

    return {
        "benchmark": "decision_latency",
        "db": "sqlite",
        "n": len(decisions),
        "seconds": round(span, 3),
        "per_second": round(len(sent) / span, 1) if span else None,
        "peak_rss_mb": server_rss,
        "p50_ms": rounded(percentile(latencies, 0.50)),
        "p95_ms": rounded(percentile(latencies, 0.95)),
        "p99_ms": rounded(percentile(latencies, 0.99)),
        "max_ms": rounded(max(latencies) if latencies else None),
        "mean_ms": rounded(statistics.fmean(latencies) if latencies else None),
        "p95_ms_from_schedule": rounded(percentile(scheduled, 0.95)),
        "all_events_p95_ms": rounded(percentile(every, 0.95)),
        "target_rate": args.rate,
        "achieved_rate": round((len(sent) - 1) / send_span, 1) if send_span else None,
        "events": len(sent),
        "contacts": args.contacts,
        "concurrency": args.concurrency,
        "client_peak_rss_mb": peak_rss_mb(),
        "ok": not problems,
        "problems": problems,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--contacts", type=int, default=2000, help="contacts waiting")
    parser.add_argument("--rate", type=float, default=200.0, help="events per second")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of sending")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight at most")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    args = parser.parse_args()
    with server_data("latency", keep=args.keep) as (data_dir, env):
        figures = asyncio.run(scenario(args, data_dir, env))
    report(figures)


if __name__ == "__main__":
    main()
