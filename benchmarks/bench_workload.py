"""Mautic's "bench" workload, end to end, driven exactly as a user drives Trellis.

1. a CSV of N contacts is generated (last name Bench, half of them in Paris);
2. ``trellis contacts import FILE`` imports it (its own process);
3. through the HTTP API of a running ``trellis serve`` (started with ``--no-services``, so that
   the command-line steps below do all the work): a segment "last name = Bench" and a published
   campaign on it: +5 points, then "city = Paris?" -> tag "paris";
4. ``trellis segments update`` (its own process);
5. ``trellis campaigns trigger`` (its own process);
6. the result is checked: every contact has 5 points, exactly the Paris half is tagged.

Each phase's wall time is printed, process start included, and each command's CPU time.
"end_to_end_s" is the sum of phases 2 to 5; the server's own start-up and the migration are
reported apart (a user's server is already running, their database migrated).
PYTHONDONTWRITEBYTECODE is removed from the children's environment and one ``trellis --help``
runs first, so that Python compiles the bytecode once, as after an install.

    uv run python benchmarks/bench_workload.py --contacts 10000
    uv run python benchmarks/bench_workload.py --contacts 10000 --db postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from _common import emit, fresh_database, is_postgres, log, serving
from sqlalchemy import text

from trellis.db.session import Database, create_engine

COMMAND = [sys.executable, "-m", "trellis.cli.main"]
PASSWORD = "Bench-password-1"


CPU: dict[str, float] = {}


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cli(env: dict[str, str], *args: str) -> tuple[float, str]:
    """Run ``trellis ARGS``: its wall time and stdout; its CPU time goes to ``CPU[args[0]]``."""
    started, cpu = time.perf_counter(), children_cpu()
    done = subprocess.run([*COMMAND, *args], env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - started
    CPU[" ".join(args[:2])] = children_cpu() - cpu
    if done.returncode != 0:
        raise SystemExit(f"trellis {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    for line in done.stderr.strip().splitlines()[-6:]:
        log(f"  | {line}")
    return took, done.stdout


def write_csv(path: Path, n: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["email", "firstname", "lastname", "city"])
        for i in range(n):
            out.writerow(
                [f"bench{i}@example.com", f"First{i}", "Bench", "Paris" if i % 2 else "Lyon"]
            )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def api(port: int, token: str, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        raise SystemExit(f"{method} {path}: {exc.code} {exc.read().decode()[:2000]}") from exc


def wait_healthy(port: int, server: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.perf_counter() + 120
    while time.perf_counter() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"trellis serve exited:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.01)
    raise SystemExit("trellis serve did not answer /healthz within 120 s")


def build_through_api(port: int, token: str) -> int:
    """The segment and the campaign, as the UI or a script would create them."""
    segment = api(
        port,
        token,
        "POST",
        "/api/v2/segments",
        {
            "name": "Bench",
            "is_published": True,
            "filters": {
                "match": "all",
                "conditions": [
                    {"type": "field", "field": "last_name", "operator": "=", "value": "Bench"}
                ],
            },
        },
    )
    events = [
        {"key": "points", "type": "contact.change_points", "config": {"delta": 5}},
        {
            "key": "paris",
            "type": "contact.field_value",
            "config": {"field": "city", "operator": "=", "value": "Paris"},
        },
        {"key": "tag", "type": "contact.change_tags", "config": {"add": ["paris"]}},
    ]
    edges = [
        {"source": None, "target": "points"},
        {"source": "points", "target": "paris"},
        {"source": "paris", "target": "tag", "path": "yes"},
    ]
    campaign = api(
        port,
        token,
        "POST",
        "/api/v2/campaigns",
        {
            "name": "Bench",
            "events": events,
            "edges": edges,
            "sources": [{"kind": "segment", "id": segment["id"]}],
        },
    )
    api(port, token, "POST", f"/api/v2/campaigns/{campaign['id']}/publish")
    return int(campaign["id"])


async def verify(url: str, n: int) -> dict[str, int]:
    database = Database(create_engine(url))
    try:
        async with database.engine.connect() as conn:
            contacts = await conn.scalar(text("SELECT COUNT(*) FROM contacts"))
            five = await conn.scalar(text("SELECT COUNT(*) FROM contacts WHERE points = 5"))
            tagged = await conn.execute(
                text(
                    "SELECT c.city, COUNT(*) FROM contacts c"
                    " JOIN contact_tags ct ON ct.contact_id = c.id"
                    " JOIN tags t ON t.id = ct.tag_id WHERE t.key = 'paris' GROUP BY c.city"
                )
            )
            by_city = {city: int(count) for city, count in tagged.all()}
    finally:
        await database.dispose()
    paris = n // 2
    figures = {
        "contacts": int(contacts or 0),
        "with_5_points": int(five or 0),
        "tagged_paris": by_city.get("Paris", 0),
    }
    ok = (
        figures["contacts"] == n
        and figures["with_5_points"] == n
        and by_city == ({"Paris": paris} if paris else {})
    )
    if not ok:
        raise SystemExit(f"wrong result: {figures}, tagged by city {by_city}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--db", default=None, help="a PostgreSQL server URL (default: SQLite)")
    args = parser.parse_args()
    n = args.contacts
    base_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with (
        tempfile.TemporaryDirectory(prefix="trellis-bench-workload-") as tmp,
        fresh_database(args.db, prefix="workload") as url,
    ):
        folder = Path(tmp)
        env = {**base_env, "TRELLIS_DATA_DIR": str(folder / "data"), "TRELLIS_DATABASE__URL": url}
        cli(env, "--help")
        csv_path = folder / "bench.csv"
        write_csv(csv_path, n)
        log(f"wrote {n:,} contacts to {csv_path.name}")
        migrate_s, _ = cli(env, "db", "upgrade")
        cli(env, "users", "create", "--email", "bench@example.com", "--password", PASSWORD)
        token = cli(env, "tokens", "create", "--user", "bench@example.com")[1].strip().split()[-1]

        phases: dict[str, float] = {}
        log("trellis contacts import")
        phases["import_s"], _ = cli(env, "contacts", "import", str(csv_path))

        port = free_port()
        log_path = folder / "serve.log"
        started = time.perf_counter()
        serve = [*COMMAND, "serve", "--port", str(port), "--no-services"]
        with serving(serve, env, log_path) as server:
            wait_healthy(port, server, log_path)
            serve_s = time.perf_counter() - started
            log(f"trellis serve answered /healthz after {serve_s:.2f} s")
            started = time.perf_counter()
            build_through_api(port, token)
            phases["api_s"] = time.perf_counter() - started
        log("trellis segments update")
        phases["segments_update_s"], _ = cli(env, "segments", "update")
        log("trellis campaigns trigger")
        phases["campaigns_trigger_s"], out = cli(env, "campaigns", "trigger")
        summary = json.loads(out.strip().splitlines()[-1])
        result = asyncio.run(verify(url, n))
        log(f"checked: {result}")
    end_to_end = sum(phases.values())
    figures: dict[str, Any] = {
        "benchmark": "bench_workload",
        "db": "postgresql" if is_postgres(args.db) else "sqlite",
        "n": n,
        "seconds": round(end_to_end, 3),
        "per_second": round(n / end_to_end, 1),
        **{name: round(value, 3) for name, value in phases.items()},
        "end_to_end_s": round(end_to_end, 3),
        # CPU seconds of the three command-line phases (the busier the machine, the more the
        # wall times above exceed these).
        "cli_cpu_s": round(
            sum(CPU[c] for c in ("contacts import", "segments update", "campaigns trigger")), 3
        ),
        "import_cpu_s": round(CPU["contacts import"], 3),
        "segments_update_cpu_s": round(CPU["segments update"], 3),
        "campaigns_trigger_cpu_s": round(CPU["campaigns trigger"], 3),
        "serve_healthz_s": round(serve_s, 3),
        "migrate_s": round(migrate_s, 3),
        "steps_executed": summary["executed"],
        **result,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    for name, value in figures.items():
        log(f"{name}: {value}")
    emit(figures)


if __name__ == "__main__":
    main()
