"""Form submissions over HTTP against a real server, each creating or updating a contact and
starting its campaign.

    uv run python benchmarks/form_submissions.py [--submissions N] [--connections C]
                                                 [--repeat-share R] [--db URL]

Starts ``trellis serve`` (embedded SQLite in a temporary data directory by default, or a fresh
database on the PostgreSQL server given by ``--db``; background services on, as a default
installation runs; the per-IP rate limit is off because every request comes from 127.0.0.1).
Creates a published form (email, first name, a select, a consent checkbox; a tag action) and a
published campaign with the form as its source whose first step tags the contact. Then N
submissions are posted as JSON (as the embed script does) as fast as C keep-alive connections
allow; a share R of them repeats an earlier address (an update instead of a create).

Afterwards every submission must be stored, every distinct address must be a contact, and
every contact must have gone through the campaign's first step, or the script exits 1.
Progress goes to stderr; the last stdout line is one JSON object with the sustained rate, the
latency percentiles and the server's CPU time per submission (user plus system time of the
``trellis serve`` process over the load, from /proc; null elsewhere), which the load of a
shared machine disturbs less than the rate.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import time
from pathlib import Path
from typing import Any

import httpx
from _common import (
    HttpConnection,
    fresh_database,
    is_postgres,
    log,
    peak_rss_mb,
    process_peak_rss_mb,
    report,
    server_data,
    serving,
)
from decision_latency import api_token, free_port, percentile, serve_command, wait_ready

ALIAS = "bench-signup"


def process_cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time another live process has used (Linux /proc), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # After the command name: state is field 3, utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def build(client: httpx.AsyncClient) -> tuple[int, int]:
    form = await client.post(
        "/api/v2/forms",
        json={
            "name": "Benchmark signup",
            "alias": ALIAS,
            "is_published": True,
            "fields": [
                {
                    "label": "Email",
                    "type": "email",
                    "name": "email",
                    "contact_field": "email",
                    "required": True,
                },
                {
                    "label": "First name",
                    "type": "text",
                    "name": "first_name",
                    "contact_field": "first_name",
                },
                {
                    "label": "Interest",
                    "type": "select",
                    "name": "interest",
                    "options": [{"label": "A", "value": "a"}, {"label": "B", "value": "b"}],
                },
                {
                    "label": "Consent",
                    "type": "consent",
                    "name": "consent",
                    "required": True,
                    "consent_text": "I agree.",
                },
            ],
            "actions": [{"type": "tags.change", "config": {"add": ["signed-up"]}}],
        },
    )
    if form.status_code != 201:
        raise RuntimeError(f"creating the form failed: {form.text}")
    form_id = int(form.json()["id"])
    first = {
        "key": "welcome",
        "type": "contact.change_tags",
        "config": {"add": ["welcomed"]},
        "timing": {"mode": "immediate"},
        "name": "Welcome",
    }
    created = await client.post(
        "/api/v2/campaigns",
        json={
            "name": "Form benchmark journey",
            "events": [first],
            "edges": [{"source": None, "target": "welcome", "path": None}],
            "sources": [{"kind": "form", "id": form_id}],
        },
    )
    if created.status_code != 201:
        raise RuntimeError(f"creating the campaign failed: {created.text}")
    campaign_id = int(created.json()["id"])
    published = await client.post(f"/api/v2/campaigns/{campaign_id}/publish")
    if published.status_code != 200:
        raise RuntimeError(f"publishing the campaign failed: {published.text}")
    return form_id, campaign_id


JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


async def load(
    host: str, port: int, bodies: list[bytes], *, connections: int
) -> tuple[list[float], list[str], float, float]:
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    latencies: list[float] = []
    errors: list[str] = []
    done = 0

    async def worker() -> None:
        nonlocal done
        conn = HttpConnection(host, port, JSON_HEADERS)
        try:
            while True:
                try:
                    body = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                if body is None:
                    return
                started = time.perf_counter()
                try:
                    status, _ = await conn.request("POST", f"/f/{ALIAS}", body)
                except (OSError, asyncio.IncompleteReadError) as exc:
                    conn.close()
                    errors.append(repr(exc))
                    continue
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    errors.append(f"HTTP {status}")
                done += 1
                if done % 1000 == 0:
                    log(f"  {done:,}/{len(bodies):,} submissions answered")
        finally:
            conn.close()

    first = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return latencies, errors, first, time.perf_counter()


async def scenario(
    args: argparse.Namespace, data_dir: Path, env: dict[str, str], db_label: str
) -> dict[str, Any]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env["TRELLIS_BASE_URL"] = base
    token = api_token(env)
    problems: list[str] = []
    server_rss: float | None = None
    server_cpu_us: float | None = None
    rng = random.Random(7)
    bodies: list[bytes] = []
    addresses: list[str] = []
    for index in range(args.submissions):
        if addresses and rng.random() < args.repeat_share:
            address = rng.choice(addresses)
        else:
            address = f"visitor{index}@example.com"
            addresses.append(address)
        bodies.append(
            json.dumps(
                {
                    "email": address,
                    "first_name": f"Visitor {index}",
                    "interest": rng.choice(["a", "b"]),
                    "consent": True,
                    "_page": "https://www.example.com/signup",
                }
            ).encode()
        )
    with serving(serve_command(port), env, data_dir / "serve.log") as server:
        async with httpx.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as client:
            await wait_ready(client, server)
            log(f"trellis serve is up on {base} (pid {server.pid})")
            form_id, campaign_id = await build(client)
            log(
                f"posting {len(bodies):,} submissions ({len(addresses):,} distinct addresses) "
                f"over {args.connections} connections"
            )
            cpu_before = process_cpu_seconds(server.pid)
            latencies, errors, first, last = await load(
                "127.0.0.1", port, bodies, connections=args.connections
            )
            cpu_after = process_cpu_seconds(server.pid)
            if cpu_before is not None and cpu_after is not None:
                server_cpu_us = (cpu_after - cpu_before) * 1e6 / len(bodies)
            if errors:
                problems.append(f"{len(errors)} submissions failed, e.g. {errors[0]}")
            form = (await client.get(f"/api/v2/forms/{form_id}")).json()
            if form["submission_count"] != len(bodies) - len(errors):
                problems.append(f"{form['submission_count']} stored, {len(bodies)} posted")
            contacts = (await client.get("/api/v2/contacts", params={"page[size]": 1})).json()
            if contacts["meta"]["total"] != len(addresses):
                problems.append(f"{contacts['meta']['total']} contacts, {len(addresses)} addresses")
            stats = (await client.get(f"/api/v2/campaigns/{campaign_id}/stats")).json()
            welcomed = stats.get("welcome", {}).get("done")
            if welcomed != len(addresses):
                problems.append(f"campaign first step done for {welcomed}, not {len(addresses)}")
            server_rss = process_peak_rss_mb(server.pid)

    span = last - first

    def ms(value: float | None) -> float | None:
        return round(value * 1000, 1) if value is not None else None

    return {
        "benchmark": "form_submissions",
        "db": db_label,
        "n": len(bodies),
        "seconds": round(span, 3),
        "per_second": round(len(bodies) / span, 1) if span else None,
        "peak_rss_mb": server_rss,
        "server_cpu_us_per_submission": (
            round(server_cpu_us) if server_cpu_us is not None else None
        ),
        "p50_ms": ms(percentile(latencies, 0.50)),
        "p95_ms": ms(percentile(latencies, 0.95)),
        "p99_ms": ms(percentile(latencies, 0.99)),
        "contacts": len(addresses),
        "connections": args.connections,
        "client_peak_rss_mb": peak_rss_mb(),
        "ok": not problems,
        "problems": problems,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--submissions", type=int, default=5000, help="submissions posted")
    parser.add_argument("--connections", type=int, default=32, help="keep-alive connections")
    parser.add_argument(
        "--repeat-share", type=float, default=0.1, help="share of repeated addresses (updates)"
    )
    parser.add_argument("--db", default=None, help="a postgresql:// server URL (default: SQLite)")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    args = parser.parse_args()
    with server_data("forms", keep=args.keep) as (data_dir, env):
        env["TRELLIS_FORMS__RATE_PER_IP"] = "0"
        if is_postgres(args.db):
            with fresh_database(args.db, prefix="forms") as url:
                env["TRELLIS_DATABASE__URL"] = url
                figures = asyncio.run(scenario(args, data_dir, env, "postgresql"))
        else:
            figures = asyncio.run(scenario(args, data_dir, env, "sqlite"))
    report(figures)


if __name__ == "__main__":
    main()
