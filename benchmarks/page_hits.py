"""Website-tracking page hits over HTTP against a real server, every hit counted afterwards.

    uv run python benchmarks/page_hits.py [--visitors N] [--rate R] [--duration S]
                                          [--connections C]

Starts ``trellis serve`` (embedded SQLite in a temporary data directory, background services
on; the per-IP rate limit is off because every request comes from 127.0.0.1). Then R hits a
second are posted to ``/t/hit`` for S seconds over C keep-alive connections, as the tracking
script sends them (a ``text/plain`` JSON body with an ``Origin``), from N visitors over a few
hundred URLs with UTM parameters. The client is a minimal HTTP/1.1 client on asyncio streams,
so that the client is not what is measured.

Afterwards ``page_hits`` must hold every hit and ``web_visitors`` every visitor, or the script
exits 1. Progress goes to stderr; the last stdout line is one JSON object with the sustained
rate, the latency percentiles and the time from the last hit to it being counted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import sqlite3
import time
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
    steady_load,
)
from decision_latency import api_token, free_port, percentile, serve_command, wait_ready

ORIGIN = "https://www.example.com"


def count(db_file: Path, table: str) -> int:
    with sqlite3.connect(f"file:{db_file}?mode=ro", uri=True) as conn:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


async def send_hit(conn: HttpConnection, body: bytes) -> str | None:
    status, _ = await conn.request("POST", "/t/hit", body)
    return None if status == 204 else f"HTTP {status}"


async def scenario(args: argparse.Namespace, data_dir: Path, env: dict[str, str]) -> dict[str, Any]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    token = api_token(env)
    db_file = data_dir / "trellis.db"
    problems: list[str] = []
    server_rss: float | None = None
    with serving(serve_command(port), env, data_dir / "serve.log") as server:
        async with httpx.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as client:
            await wait_ready(client, server)
            log(f"trellis serve is up on {base} (pid {server.pid})")
            rng = random.Random(7)
            visitors = [secrets.token_hex(16) for _ in range(args.visitors)]
            urls = [f"{ORIGIN}/p/{i}?utm_source=news&utm_campaign=c{i % 7}" for i in range(300)]
            total = max(len(visitors), round(args.rate * args.duration))
            # Every visitor at least once, then random ones.
            chosen = visitors + [rng.choice(visitors) for _ in range(total - len(visitors))]
            rng.shuffle(chosen)
            plan = [
                json.dumps(
                    {
                        "v": v,
                        "u": rng.choice(urls),
                        "t": "Page",
                        "r": "",
                        "s": "www",
                        "d": "desktop",
                    }
                ).encode()
                for v in chosen
            ]
            log(
                f"sending {len(plan):,} hits at {args.rate:g}/s over {args.connections} connections"
            )
            latencies, errors, first, last = await steady_load(
                "127.0.0.1",
                port,
                plan,
                send_hit,
                rate=args.rate,
                connections=args.connections,
                headers={"Origin": ORIGIN, "Content-Type": "text/plain;charset=UTF-8"},
            )
            sent_done = time.perf_counter()
            counted_after: float | None = None
            while time.perf_counter() - sent_done < 30:
                if count(db_file, "page_hits") >= len(plan) - len(errors):
                    counted_after = time.perf_counter() - sent_done
                    break
                await asyncio.sleep(0.05)
            if errors:
                problems.append(f"{len(errors)} hits failed, e.g. {errors[0]}")
            stored = count(db_file, "page_hits")
            if stored != len(plan):
                problems.append(f"{stored} page hits stored, {len(plan)} sent")
            known = count(db_file, "web_visitors")
            if known != len(visitors):
                problems.append(f"{known} visitors stored, {len(visitors)} sent")
            for _ in range(40):  # the database may be busy with the services for a moment
                listed = await client.get("/api/v2/page-hits", params={"page[size]": 1})
                if listed.status_code != 503:
                    break
                await asyncio.sleep(0.25)
            if listed.status_code != 200 or listed.json()["meta"]["total"] != stored:
                problems.append(f"the API lists {listed.text[:200]}")
            server_rss = process_peak_rss_mb(server.pid)

    span = last - first

    def ms(value: float | None) -> float | None:
        return round(value * 1000, 1) if value is not None else None

    return {
        "benchmark": "page_hits",
        "db": "sqlite",
        "n": len(plan),
        "seconds": round(span, 3),
        "per_second": round(len(plan) / span, 1) if span else None,
        "peak_rss_mb": server_rss,
        "p50_ms": ms(percentile(latencies, 0.50)),
        "p95_ms": ms(percentile(latencies, 0.95)),
        "p99_ms": ms(percentile(latencies, 0.99)),
        "visitors": len(visitors),
        "target_rate": args.rate,
        "connections": args.connections,
        "counted_after_ms": ms(counted_after),
        "client_peak_rss_mb": peak_rss_mb(),
        "ok": not problems,
        "problems": problems,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--visitors", type=int, default=2000, help="distinct visitor ids")
    parser.add_argument("--rate", type=float, default=3000.0, help="hits per second")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of sending")
    parser.add_argument("--connections", type=int, default=64, help="keep-alive connections")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    args = parser.parse_args()
    with server_data("web", keep=args.keep) as (data_dir, env):
        env["TRELLIS_WEB__RATE_PER_IP"] = "0"
        env["TRELLIS_WEB__ALLOWED_ORIGINS"] = json.dumps([ORIGIN])
        figures = asyncio.run(scenario(args, data_dir, env))
    report(figures)


if __name__ == "__main__":
    main()
