"""Each message goes once, also with a sending rate slower than the lease and several
delivery passes at work at the same time; a server that takes a message and drops the
connection before answering gets that message again, and only that one."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from tests.domains.campaigns.helpers import contacts
from tests.domains.emails.conftest import smtp_settings
from tests.domains.emails.helpers import create_email, deliver, sends
from tests.domains.emails.test_sending import run_campaign
from tests.fixtures.api import Harness
from tests.fixtures.database import DatabaseUnderTest
from tests.fixtures.smtp import SmtpServer
from trellis.clock import OffsetClock
from trellis.domains.emails import tasks as email_tasks
from trellis.jobs.registry import JobContext
from trellis.settings import Settings

MESSAGES = 100


@pytest.fixture
def settings(tmp_path: Path, test_database: DatabaseUnderTest, smtp_server: SmtpServer) -> Settings:
    # The setting (5 a second, batches of 50, a 10 s lease) about three times faster:
    # a batch takes as long to send as the lease lasts. (A 1 s lease was lost to a process
    # stalled for half a second on a loaded CI machine: no renewal can survive that.)
    return smtp_settings(
        tmp_path, test_database, smtp_server, rate_per_second=50, batch_size=150, lease_s=3
    )


async def _delivery_pass(harness: Harness, clock: OffsetClock, after_s: float) -> None:
    """A delivery pass as a job or the background service of another process runs it."""
    await asyncio.sleep(after_s)
    await email_tasks.deliver(JobContext(database=harness.database, clock=clock), {})


async def test_rate_limited_delivery_with_passes_at_once_sends_each_message_once(
    harness: Harness, admin: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    email = await create_email(admin)
    people = await contacts(
        admin, *({"email": f"p{i}@example.com", "first_name": f"P{i}"} for i in range(MESSAGES))
    )
    await run_campaign(harness, admin, {"email_id": email["id"]}, people)
    # The job the campaign's commit woke started from the test's clock just now; time
    # passes for the other processes as for it (leases need clocks that agree).
    clock = OffsetClock(harness.clock.now())
    # That job, and passes of other processes starting while it sends, one of them after
    # the first lease would have ended.
    await asyncio.gather(
        harness.app.state.jobs.drain(),
        *(_delivery_pass(harness, clock, after) for after in (0.0, 0.5, 3.5)),
    )
    # A pass that could not renew its lease in time (a loaded machine) stops handing its
    # messages over and leaves them to the lease: they go after it, still once.
    harness.clock.advance(timedelta(minutes=1))
    await deliver(harness)
    rows = await sends(admin, email["id"])
    assert {r["status"] for r in rows} == {"sent"}
    counted = Counter(smtp_server.message_ids())
    assert sorted(counted) == sorted(r["message_id"] for r in rows)
    assert set(counted.values()) == {1}


async def test_a_server_dropping_the_connection_after_data_gets_only_that_message_again(
    harness: Harness, admin: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    email = await create_email(admin)
    people = await contacts(
        admin, *({"email": f"p{i}@example.com", "first_name": f"P{i}"} for i in range(12))
    )
    smtp_server.fail("drop_after_data", times=1)
    await run_campaign(harness, admin, {"email_id": email["id"]}, people)
    await deliver(harness)
    rows = await sends(admin, email["id"])
    [dropped] = [r for r in rows if r["status"] == "queued"]
    assert dropped["reason"].startswith("Attempt 1 failed")
    # The server kept it: from where Trellis stands, the message was in flight.
    assert Counter(smtp_server.message_ids())[dropped["message_id"]] == 1
    harness.clock.advance(timedelta(minutes=2))
    await deliver(harness)
    rows = await sends(admin, email["id"])
    assert {r["status"] for r in rows} == {"sent"}
    counted = Counter(smtp_server.message_ids())
    assert sorted(counted) == sorted(r["message_id"] for r in rows)
    assert {m: n for m, n in counted.items() if n > 1} == {dropped["message_id"]: 2}
