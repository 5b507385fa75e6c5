"""Opens and clicks over HTTP against a real server, every hit counted afterwards.

    uv run python benchmarks/tracking_hits.py [--contacts N] [--rate R] [--duration S]
                                              [--connections C]

Starts ``trellis serve`` (embedded SQLite in a temporary data directory, background services
on, as a default installation runs; the per-IP rate limit is off because every request comes
from 127.0.0.1). N contacts (set-based SQL, not timed) join a published campaign "send email
-> opens email? yes: tag opened"; the outbox transport keeps the N messages, and the open
pixel and the click link of each are read from the stored messages (as a mail client would
find them). Then R hits a second are sent for S seconds over C keep-alive connections: a
shuffled mix of opens (two in three) and clicks, spread over all N messages. The client is a
minimal HTTP/1.1 client on asyncio streams, so that the client is not what is measured.

Afterwards the email's statistics must count every hit (opens, clicks, unique opens), the
hit log must hold every hit, and every contact must have gone down the decision's yes path,
or the script exits 1. Progress goes to stderr; the last stdout line is one JSON object with
the sustained rate, the latency percentiles and the time from the last hit to it being
counted.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import random
import re
import sqlite3
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from _common import (
    HttpConnection,
    log,
    peak_rss_mb,
    process_peak_rss_mb,
    report,
    server_data,
    serving,
    steady_load,
)
from decision_latency import (
    api_token,
    free_port,
    insert_contacts,
    percentile,
    serve_command,
    wait_ready,
)
from form_submissions import process_cpu_seconds

TAG = "opened"
BODY = """<mjml><mj-body><mj-section><mj-column>
<mj-text>Hello {contactfield=first_name|there},</mj-text>
<mj-button href="https://shop.example.com/spring">Shop the spring sale</mj-button>
<mj-text><a href="{unsubscribe_url}">Unsubscribe</a></mj-text>
</mj-column></mj-section></mj-body></mjml>"""


async def build(client: httpx.AsyncClient, contact_ids: list[int]) -> tuple[int, int]:
    email = await client.post(
        "/api/v2/emails",
        json={"name": "Spring", "subject": "Spring sale", "body": BODY, "is_published": True},
    )
    email.raise_for_status()
    email_id = int(email.json()["id"])
    document = {
        "name": "Tracking benchmark",
        "events": [
            {"key": "send", "type": "email.send", "config": {"email_id": email_id}},
            {"key": "opens", "type": "email.open", "config": {"email_id": email_id}},
            {"key": "tag", "type": "contact.change_tags", "config": {"add": [TAG]}},
        ],
        "edges": [
            {"source": None, "target": "send"},
            {"source": "send", "target": "opens"},
            {"source": "opens", "target": "tag", "path": "yes"},
        ],
    }
    created = await client.post("/api/v2/campaigns", json=document)
    created.raise_for_status()
    campaign_id = int(created.json()["id"])
    (await client.post(f"/api/v2/campaigns/{campaign_id}/publish")).raise_for_status()
    for start in range(0, len(contact_ids), 1000):
        part = contact_ids[start : start + 1000]
        added = await client.post(
            f"/api/v2/campaigns/{campaign_id}/members", json={"contact_ids": part}
        )
        added.raise_for_status()
    return email_id, campaign_id


def stored_links(db_file: Path, expected: int) -> list[tuple[str, str]]:
    """(open pixel path, click path) of every message the outbox kept."""
    with sqlite3.connect(f"file:{db_file}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT raw FROM email_outbox").fetchall()
    found = []
    for (raw,) in rows:
        text = re.sub(r"=\r?\n", "", raw).replace("=3D", "=")
        pixel = re.search(r'src="([^"]*/t/open/[^"]+)"', text)
        click = re.search(r'href="([^"]*/t/click/[^"]+)"', text)
        if pixel and click:
            open_url, click_url = (html.unescape(m.group(1)) for m in (pixel, click))
            found.append(
                tuple(
                    urlsplit(u).path + ("?" + urlsplit(u).query if urlsplit(u).query else "")
                    for u in (open_url, click_url)
                )
            )
    if len(found) != expected:
        raise RuntimeError(f"{len(found)} tracked messages in the outbox, expected {expected}")
    return found  # type: ignore[return-value]


def outbox_count(db_file: Path) -> int:
    with sqlite3.connect(f"file:{db_file}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM email_outbox").fetchone()[0])


def hit_count(db_file: Path) -> int:
    with sqlite3.connect(f"file:{db_file}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM tracking_hits").fetchone()[0])


async def send_hit(conn: HttpConnection, item: tuple[str, str]) -> str | None:
    kind, path = item
    status, _ = await conn.request("GET", path)
    expected = 200 if kind == "open" else 302
    return None if status == expected else f"{kind}: HTTP {status}"


async def scenario(args: argparse.Namespace, data_dir: Path, env: dict[str, str]) -> dict[str, Any]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    token = api_token(env)
    db_file = data_dir / "trellis.db"
    contact_ids = insert_contacts(db_file, args.contacts)
    log(f"inserted {len(contact_ids):,} contacts (not timed)")
    problems: list[str] = []
    server_rss: float | None = None
    server_cpu_us: int | None = None
    with serving(serve_command(port), env, data_dir / "serve.log") as server:
        async with httpx.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as client:
            await wait_ready(client, server)
            log(f"trellis serve is up on {base} (pid {server.pid})")
            email_id, campaign_id = await build(client, contact_ids)
            deadline = time.monotonic() + 300
            while outbox_count(db_file) < len(contact_ids):
                if time.monotonic() > deadline:
                    raise RuntimeError("the campaign's messages were not all sent in 5 minutes")
                await asyncio.sleep(0.5)
            links = stored_links(db_file, len(contact_ids))
            log(f"{len(links):,} messages in the outbox, links read from them")

            total = max(1, round(args.rate * args.duration))
            rng = random.Random(11)
            plan: list[tuple[str, str]] = []
            # Every message is opened at least once, so every contact takes the decision.
            plan += [("open", pixel) for pixel, _ in links]
            while len(plan) < total:
                pixel, click = rng.choice(links)
                plan.append(("open", pixel) if rng.random() < 2 / 3 else ("click", click))
            rng.shuffle(plan)
            log(
                f"sending {len(plan):,} hits at {args.rate:g}/s over {args.connections} connections"
            )
            cpu_before = process_cpu_seconds(server.pid)
            latencies, errors, first, last = await steady_load(
                "127.0.0.1", port, plan, send_hit, rate=args.rate, connections=args.connections
            )
            sent_done = time.perf_counter()
            cpu_after = process_cpu_seconds(server.pid)
            if cpu_before is not None and cpu_after is not None:
                # Answering the hits; the writes still buffered are flushed just after.
                server_cpu_us = round((cpu_after - cpu_before) * 1e6 / len(plan))
            opens_sent = sum(1 for k, _ in plan if k == "open")
            clicks_sent = len(plan) - opens_sent
            ok_hits = len(plan) - len(errors)
            counted_after: float | None = None
            stats: dict[str, Any] = {}
            while time.perf_counter() - sent_done < 30:
                response = await client.get(f"/api/v2/emails/{email_id}/stats")
                if response.status_code != 200:
                    log(f"  stats answered {response.status_code}: {response.text[:300]}")
                    await asyncio.sleep(0.5)
                    continue
                stats = response.json()
                # A click with no earlier open also counts as the message's open.
                if stats["clicks"] >= clicks_sent and hit_count(db_file) >= ok_hits:
                    counted_after = time.perf_counter() - sent_done
                    break
                await asyncio.sleep(0.05)
            if errors:
                problems.append(f"{len(errors)} hits failed, e.g. {errors[0]}")
            if stats.get("clicks") != clicks_sent:
                problems.append(f"{stats.get('clicks')} clicks counted, {clicks_sent} sent")
            if not opens_sent <= stats.get("opens", 0) <= opens_sent + len(links):
                problems.append(f"{stats.get('opens')} opens counted, {opens_sent} sent")
            if stats.get("unique_opens") != len(links):
                problems.append(f"{stats.get('unique_opens')} unique opens, {len(links)} messages")
            logged = hit_count(db_file)
            if logged != len(plan):
                problems.append(f"{logged} hits in the log, {len(plan)} sent")
            campaign = (await client.get(f"/api/v2/campaigns/{campaign_id}/stats")).json()
            if campaign["opens"]["yes"] != len(links) or campaign["tag"]["done"] != len(links):
                problems.append(f"campaign stats: {campaign}")
            server_rss = process_peak_rss_mb(server.pid)

    span = last - first

    def ms(value: float | None) -> float | None:
        return round(value * 1000, 1) if value is not None else None

    return {
        "benchmark": "tracking_hits",
        "db": "sqlite",
        "n": len(plan),
        "seconds": round(span, 3),
        "per_second": round(len(plan) / span, 1) if span else None,
        "peak_rss_mb": server_rss,
        "server_cpu_us_per_hit": server_cpu_us,
        "p50_ms": ms(percentile(latencies, 0.50)),
        "p95_ms": ms(percentile(latencies, 0.95)),
        "p99_ms": ms(percentile(latencies, 0.99)),
        "opens": opens_sent,
        "clicks": clicks_sent,
        "messages": len(links),
        "target_rate": args.rate,
        "connections": args.connections,
        "counted_after_ms": ms(counted_after),
        "client_peak_rss_mb": peak_rss_mb(),
        "ok": not problems,
        "problems": problems,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--contacts", type=int, default=2000, help="messages sent and tracked")
    parser.add_argument("--rate", type=float, default=3000.0, help="hits per second")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of sending")
    parser.add_argument("--connections", type=int, default=64, help="keep-alive connections")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    args = parser.parse_args()
    with server_data("tracking", keep=args.keep) as (data_dir, env):
        env["TRELLIS_TRACKING__RATE_PER_IP"] = "0"
        figures = asyncio.run(scenario(args, data_dir, env))
    report(figures)


if __name__ == "__main__":
    main()
