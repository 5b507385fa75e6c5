"""Start-up budget of the command line, checked in fresh processes: what `--help` and an idle
`campaigns trigger` import, and that the idle trigger's quick question misses no due work.

The figures themselves (CPU seconds) are printed by benchmarks/cli_startup.py; here only what
is imported is asserted, which is what the budget depends on."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import timedelta

import httpx
import pytest

from tests.domains.campaigns.helpers import campaign, contacts, edge, segment, step
from tests.domains.emails.helpers import create_email
from tests.fixtures.api import START, Harness
from tests.fixtures.cli import Cli, CliResult

# Neither --help nor an idle trigger needs the ORM, migrations, the web stack or templates.
HEAVY = ("sqlalchemy.orm", "alembic", "fastapi", "starlette", "jinja2", "trellis.bootstrap")


def imported(stderr: str) -> set[str]:
    """Module names from ``-X importtime`` output."""
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


def heavy_among(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["campaigns", "trigger", "--help"],
        ["contacts", "import", "--help"],
        ["segments", "update", "--help"],
        ["serve", "--help"],
        ["db", "upgrade", "--help"],
    ],
)
def test_help_imports_nothing_heavy(args: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRELLIS_")}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "trellis.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Usage:" in done.stdout
    assert heavy_among(imported(done.stderr)) == []


def trigger(cli: Cli, at: str, **env: str) -> tuple[CliResult, dict[str, int], set[str]]:
    result = cli(
        "campaigns", "trigger", "--now", at, extra_env={"PYTHONPROFILEIMPORTTIME": "1", **env}
    )
    assert result.exit_code == 0, result.stderr[-3000:]
    return result, json.loads(result.stdout.strip().splitlines()[-1]), imported(result.stderr)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_idle_trigger_is_quick_and_misses_no_due_work(
    harness: Harness, admin: httpx.AsyncClient, cli: Cli
) -> None:
    """Each kind of due work (a new segment source, a segment's new member, a scheduled step,
    an email to retry) is seen by the quick question and run by the full trigger; in between,
    with nothing due, the command answers without building the application."""
    await contacts(admin, {"email": "a@example.com", "last_name": "Bench"})
    bench = await segment(
        admin, "Bench", [{"type": "field", "field": "last_name", "operator": "=", "value": "Bench"}]
    )
    email = await create_email(admin)
    send = step("email.send", {"email_id": email["id"]}, name="Welcome")
    later = step(
        "contact.change_tags",
        {"add": ["day-2"]},
        name="Later",
        timing={"mode": "interval", "amount": 2, "unit": "day"},
    )
    await campaign(
        admin,
        events=[send, later],
        edges=[edge(None, send), edge(send, later)],
        sources=[{"kind": "segment", "id": bench}],
    )
    # Mail goes to a port nobody listens on: the send fails and is queued for a retry.
    smtp = {
        "TRELLIS_MAIL__TRANSPORT": "smtp",
        "TRELLIS_MAIL__SMTP_HOST": "127.0.0.1",
        "TRELLIS_MAIL__SMTP_PORT": str(closed_port()),
        "TRELLIS_MAIL__SMTP_TLS": "none",
        "TRELLIS_MAIL__RETRY_FIRST_DELAY_S": "3600",
    }
    assert cli("segments", "update", "--now", START.isoformat()).exit_code == 0

    def at(delta: timedelta) -> str:
        return (START + delta).isoformat()

    # A new source: its members join and get the email (its delivery fails), the delayed step
    # is scheduled.
    first, summary, modules = trigger(cli, at(timedelta(minutes=1)), **smtp)
    assert (summary["joined"], summary["steps"], summary["scheduled"]) == (1, {"email.send": 1}, 1)
    assert "emails sent 0, retried 1" in first.stderr
    assert "trellis.bootstrap" in modules

    # Nothing due: the quick answer, without the ORM or the application.
    idle, idle_summary, modules = trigger(cli, at(timedelta(minutes=2)), **smtp)
    assert idle_summary == {
        **dict.fromkeys(summary, 0),
        "campaigns": 1,
        "steps": {},
        "seconds": 0.0,
    }
    assert "emails sent 0, retried 0" in idle.stderr
    assert heavy_among(modules) == []

    # The retry's time came: the full run tries the email again.
    retry, summary, modules = trigger(cli, at(timedelta(hours=1, minutes=2)), **smtp)
    assert "retried 1" in retry.stderr
    assert "trellis.bootstrap" in modules

    # A new member of the source's segment joins.
    await contacts(admin, {"email": "b@example.com", "last_name": "Bench"})
    assert cli("segments", "update", "--now", at(timedelta(hours=2))).exit_code == 0
    _, summary, _ = trigger(cli, at(timedelta(hours=2, minutes=1)))
    assert summary["joined"] == 1

    # The scheduled step's time came (two days after the first member's email).
    _, summary, modules = trigger(cli, at(timedelta(days=2, minutes=2)))
    assert summary["executed"] >= 1
    assert "trellis.bootstrap" in modules
