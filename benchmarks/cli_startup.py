"""Start-up as a user sees it: each figure is a fresh `trellis` process, process start included.

- ``help_cpu_s``: CPU time (user + system) of ``trellis --help``;
- ``trigger_idle_cpu_s`` / ``trigger_idle_wall_s``: ``trellis campaigns trigger`` with nothing
  due (a migrated, empty database: what cron runs every few minutes);
- ``serve_first_healthz_s``: from starting ``trellis serve`` on a new database (it migrates
  first) to the first ``/healthz`` 200; ``serve_healthz_s``: the same on a restart.

Each command runs ``--runs`` times and the median is reported. The first run of all is a
warm-up and is not counted: Python compiles the package's bytecode on its first import, as it
does once after an install (``PYTHONDONTWRITEBYTECODE`` is removed from the children's
environment for that reason). Wall times depend on how busy the machine is; CPU times much less.

    uv run python benchmarks/cli_startup.py [--runs 5] [--db postgresql://...]
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from _common import emit, fresh_database, is_postgres, log, serving

COMMAND = [sys.executable, "-m", "trellis.cli.main"]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one ``trellis ARGS`` process."""
    cpu, started = children_cpu(), time.perf_counter()
    done = subprocess.run([*COMMAND, *args], env=env, capture_output=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"trellis {' '.join(args)} failed: {done.stderr.decode()[-2000:]}")
    return wall, children_cpu() - cpu


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def time_to_healthz(env: dict[str, str], log_path: Path) -> float:
    port = free_port()
    started = time.perf_counter()
    with serving([*COMMAND, "serve", "--port", str(port)], env, log_path) as server:
        while time.perf_counter() - started < 120:
            if server.poll() is not None:
                raise SystemExit(f"trellis serve exited: {log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    if r.status == 200:
                        return time.perf_counter() - started
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.01)
    raise SystemExit("trellis serve did not answer /healthz within 120 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db", default=None, help="a PostgreSQL server URL (default: SQLite)")
    args = parser.parse_args()
    base_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory(prefix="trellis-bench-startup-") as tmp:
        data = Path(tmp) / "data"
        env = {**base_env, "TRELLIS_DATA_DIR": str(data)}
        with fresh_database(args.db, prefix="startup") as url:
            if is_postgres(args.db):
                env["TRELLIS_DATABASE__URL"] = url
            log("warm-up (compiles bytecode once, as after an install)")
            timed(["--help"], env)
            first_serve = time_to_healthz(env, Path(tmp) / "serve-first.log")
            log(f"serve on a new database: healthz after {first_serve:.2f} s")
            help_runs = [timed(["--help"], env) for _ in range(args.runs)]
            trigger_runs = [timed(["campaigns", "trigger"], env) for _ in range(args.runs)]
            serve_runs = [
                time_to_healthz(env, Path(tmp) / f"serve-{i}.log") for i in range(args.runs)
            ]
    figures = {
        "benchmark": "cli_startup",
        "db": "postgresql" if is_postgres(args.db) else "sqlite",
        "runs": args.runs,
        "help_cpu_s": round(statistics.median(c for _, c in help_runs), 3),
        "help_wall_s": round(statistics.median(w for w, _ in help_runs), 3),
        "trigger_idle_cpu_s": round(statistics.median(c for _, c in trigger_runs), 3),
        "trigger_idle_wall_s": round(statistics.median(w for w, _ in trigger_runs), 3),
        "serve_first_healthz_s": round(first_serve, 3),
        "serve_healthz_s": round(statistics.median(serve_runs), 3),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    for name, value in figures.items():
        log(f"{name}: {value}")
    emit(figures)


if __name__ == "__main__":
    main()
