"""Delivery in small batches, the next one rendered while the previous one is on the wire:
every message goes once, and every outcome is recorded against its own send."""

from __future__ import annotations

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
from trellis.settings import Settings


@pytest.fixture
def settings(tmp_path: Path, test_database: DatabaseUnderTest, smtp_server: SmtpServer) -> Settings:
    return smtp_settings(tmp_path, test_database, smtp_server, batch_size=4)


async def test_overlapping_batches_send_each_message_once_and_record_each_outcome(
    harness: Harness, admin: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    email = await create_email(admin)
    addresses = [f"p{i}@example.com" for i in range(11)]
    people = await contacts(
        admin, *({"email": a, "first_name": f"P{i}"} for i, a in enumerate(addresses))
    )
    # Two messages somewhere in the run are refused for now: they wait for a retry, the
    # others go, and no outcome lands on the wrong send.
    smtp_server.fail("refuse", times=2)
    await run_campaign(harness, admin, {"email_id": email["id"]}, people)
    await deliver(harness)
    rows = await sends(admin, email["id"])
    by_status: dict[str, list[str]] = {}
    for row in rows:
        by_status.setdefault(row["status"], []).append(row["to_address"])
    received = [m.recipients[0] for m in smtp_server.received]
    assert len(rows) == 11
    assert sorted(by_status["sent"]) == sorted(received)
    assert len(received) == len(set(received)) == 9
    assert len(by_status["queued"]) == 2
    assert set(by_status["queued"]).isdisjoint(received)
    for row in rows:
        if row["status"] == "queued":
            assert row["reason"].startswith("Attempt 1 failed: 451")
    # Each message is personalised for its own recipient.
    for message in smtp_server.received:
        number = message.recipients[0].removeprefix("p").split("@")[0]
        assert message.message["Subject"] == f"Hi P{number}"
