"""`trellis worker` runs the scheduler without HTTP and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.domains.campaigns.helpers import campaign, contacts, edge, step
from tests.domains.emails.conftest import smtp_settings
from tests.domains.emails.helpers import create_email, sends
from tests.domains.emails.test_sending import run_campaign
from tests.fixtures.api import Harness
from tests.fixtures.cli import Cli
from tests.fixtures.database import DatabaseUnderTest
from tests.fixtures.processes import read_until
from tests.fixtures.smtp import SmtpServer, smtp_server
from trellis.settings import Settings

__all__ = ["smtp_server"]


def test_the_worker_refuses_sqlite_and_says_what_to_run(cli: Cli, tmp_path: Path) -> None:
    env = {
        "TRELLIS_DATA_DIR": str(tmp_path / "data"),
        "TRELLIS_DATABASE__URL": f"sqlite:///{tmp_path / 'trellis.db'}",
    }
    assert cli("db", "upgrade", extra_env=env).exit_code == 0
    result = cli("worker", extra_env=env, timeout=60)
    assert result.exit_code == 1
    assert "trellis worker needs PostgreSQL" in result.output
    assert "trellis serve" in result.output
    assert "Traceback" not in result.output


async def test_a_worker_process_runs_due_steps(
    harness: Harness, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    if harness.database.dialect != "postgresql":
        pytest.skip("trellis worker needs PostgreSQL")
    (who,) = await contacts(admin, {"email": "worker@example.com"})
    soon = step(
        "contact.change_tags",
        {"add": ["by-worker"]},
        timing={"mode": "interval", "amount": 1, "unit": "minute"},
    )
    created = await campaign(admin, events=[soon], edges=[edge(None, soon)])
    # Scheduled a minute before the real time, so it is due for a worker on the system clock.
    harness.clock.set(harness.clock.now().replace(year=2020))
    await admin.post(f"/api/v2/campaigns/{created['id']}/members", json={"contact_ids": [who]})
    env = {
        **os.environ,
        "TRELLIS_DATA_DIR": str(tmp_path / "worker"),
        "TRELLIS_DATABASE__URL": harness.settings.database_url,
        "TRELLIS_LOGGING__TO_FILE": "false",
    }
    process = subprocess.Popen(  # noqa: ASYNC220 - a real second process is the point
        [sys.executable, "-m", "trellis.cli.main", "worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        banner = read_until(process, "worker running")
        deadline = time.monotonic() + 30
        tags: list[str] = []
        while time.monotonic() < deadline:
            tags = (await admin.get(f"/api/v2/contacts/{who}")).json()["tags"]
            if tags:
                break
            await asyncio.sleep(0.3)
        assert tags == ["by-worker"]
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=30)[0].decode()
    assert process.returncode == 0, banner + output


@pytest.fixture
def settings(tmp_path: Path, test_database: DatabaseUnderTest, smtp_server: SmtpServer) -> Settings:
    return smtp_settings(tmp_path, test_database, smtp_server)


async def test_a_worker_stops_within_seconds_while_a_message_hangs_at_the_server(
    harness: Harness, admin: httpx.AsyncClient, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    if harness.database.dialect != "postgresql":
        pytest.skip("trellis worker needs PostgreSQL")
    # Queued for a retry due long before the real time: the worker delivers it at once.
    harness.clock.set(harness.clock.now().replace(year=2020))
    smtp_server.fail("refuse", times=1)
    email = await create_email(admin)
    people = await contacts(admin, {"email": "ada@example.com"})
    await run_campaign(harness, admin, {"email_id": email["id"]}, people)
    await harness.app.state.jobs.drain()
    assert [r["status"] for r in await sends(admin, email["id"])] == ["queued"]
    smtp_server.fail("hang", times=10)
    env = {
        **os.environ,
        "TRELLIS_DATA_DIR": str(tmp_path / "worker"),
        "TRELLIS_DATABASE__URL": harness.settings.database_url,
        "TRELLIS_LOGGING__TO_FILE": "false",
        "TRELLIS_MAIL__TRANSPORT": "smtp",
        "TRELLIS_MAIL__SMTP_HOST": smtp_server.host,
        "TRELLIS_MAIL__SMTP_PORT": str(smtp_server.port),
        "TRELLIS_MAIL__SMTP_TLS": "none",
        "TRELLIS_MAIL__SMTP_TIMEOUT_S": "120",
    }
    process = subprocess.Popen(  # noqa: ASYNC220 - a real second process is the point
        [sys.executable, "-m", "trellis.cli.main", "worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        read_until(process, "worker running")
        for _ in range(300):
            if smtp_server.hanging:
                break
            await asyncio.sleep(0.2)
        assert smtp_server.hanging, "the worker never reached the server"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            # Stopping waits a few seconds for an answer, not for the server's timeout.
            output = process.communicate(timeout=10)[0].decode()
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert process.returncode == 0, output
