"""Every benchmark in ``benchmarks/`` still runs: each script in its own process at a tiny size,
as ``make bench`` and docs/performance.md run them. The figures are not looked at (tests never
assert timings); a script that fails (a service used before the composition root wired it, a
renamed API, a check of its own that no longer holds) fails here instead of on the day someone
measures.

With ``TRELLIS_TEST_DATABASE_URL`` on PostgreSQL, the scripts that take ``--db`` run on a fresh
database of that server (created and dropped by the script), and ``campaign_workers.py`` (which
needs PostgreSQL) runs with the in-process trigger only, since its workers need a broker.

Not run here: ``canvas_frames.py`` and ``ui_load.py`` (headless Chromium and a built UI; the
e2e suite covers the canvas and the pages).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
POSTGRES = os.environ.get("TRELLIS_TEST_DATABASE_URL", "")
ON_POSTGRES = POSTGRES.startswith(("postgres://", "postgresql"))
# These drive a browser on a built UI; the browser tests cover that path.
NOT_RUN_HERE = {"canvas_frames.py", "ui_load.py"}

# The smallest arguments that still run the whole script, its own checks included.
TINY: dict[str, list[str]] = {
    "campaign_kickoff.py": ["--contacts", "300", "--batch-size", "100"],
    "campaign_page.py": ["--contacts", "300", "--repeat", "1"],
    "contacts_import.py": ["--rows", "2000"],
    "segment_rebuild.py": ["--contacts", "300"],
    "email_send.py": ["--contacts", "50", "--pool", "2", "--tracking"],
    "sqlite_driver.py": ["--statements", "50"],
    "decision_latency.py": ["--contacts", "20", "--rate", "20", "--duration", "1"],
    "form_submissions.py": ["--submissions", "40", "--connections", "4"],
    "page_hits.py": ["--visitors", "20", "--rate", "50", "--duration", "1", "--connections", "4"],
    "tracking_hits.py": [
        *("--contacts", "20", "--rate", "50", "--duration", "1", "--connections", "4"),
    ],
    "campaign_workers.py": ["--contacts", "300", "--workers", "0"],
    "bench_workload.py": ["--contacts", "200"],
    "cli_startup.py": ["--runs", "1"],
    "cleanup.py": ["--rows", "2000", "--no-load"],
}
TAKES_DB = {
    "campaign_kickoff.py",
    "campaign_page.py",
    "contacts_import.py",
    "segment_rebuild.py",
    "email_send.py",
    "form_submissions.py",
    "campaign_workers.py",
}
NEEDS_POSTGRES = {"campaign_workers.py"}


def scripts() -> list[str]:
    return sorted(path.name for path in BENCHMARKS.glob("*.py") if not path.name.startswith("_"))


def test_every_benchmark_has_a_tiny_run() -> None:
    """A new benchmark gets a tiny size here (or a reason in NOT_RUN_HERE)."""
    assert sorted(set(scripts()) - NOT_RUN_HERE) == sorted(TINY)


@pytest.mark.slow
@pytest.mark.timeout(600)  # a loaded machine starts three CLI processes and a server slowly
@pytest.mark.parametrize("script", sorted(TINY))
def test_benchmark_runs(script: str, tmp_path: Path) -> None:
    if script in NEEDS_POSTGRES and not ON_POSTGRES:
        pytest.skip("needs PostgreSQL (TRELLIS_TEST_DATABASE_URL)")
    command = [sys.executable, str(BENCHMARKS / script), *TINY[script]]
    if ON_POSTGRES and script in TAKES_DB:
        command += ["--db", POSTGRES]
    # Only what a user's shell would have: no settings of the test process leak in.
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRELLIS_")}
    result = subprocess.run(
        command,
        cwd=tmp_path,
        env={**env, "TRELLIS_DATA_DIR": str(tmp_path / "data")},
        capture_output=True,
        text=True,
        check=False,
        timeout=540,
    )
    assert result.returncode == 0, f"{script} failed:\n{result.stderr[-4000:]}"
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures.get("ok", True) is True, figures
    assert figures.get("problems", []) == [], figures
