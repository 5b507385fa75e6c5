"""Bounces and complaints: DSN and feedback reports from the bounce mailbox (polled over a
fake IMAP server), and the provider webhook."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.domains.campaigns.helpers import contacts
from tests.domains.emails.helpers import create_email, sends
from tests.domains.tracking.helpers import send_campaign
from tests.fixtures.api import Harness
from trellis.domains.tracking.bounces import ImapConfig, poll_bounces
from trellis.domains.tracking.dsn import parse_report

FIXTURES = Path(__file__).parent / "fixtures"


def report(
    name: str, *, address: str = "ada@example.com", message_id: str = "<m1@trellis.test>"
) -> bytes:
    text = (FIXTURES / name).read_text()
    return text.replace("{address}", address).replace("{message_id}", message_id).encode()


def test_a_hard_bounce_names_the_recipient_message_and_reason() -> None:
    [event] = parse_report(report("hard_bounce.eml"))
    assert event.type == "bounce"
    assert event.bounce_type == "hard"
    assert event.email == "ada@example.com"
    assert event.message_id == "<m1@trellis.test>"
    assert event.reason.startswith("550 5.1.1")
    assert "User unknown" in event.reason
    assert event.occurred_at == datetime(2026, 3, 2, 9, 4, 58, tzinfo=UTC)


def test_a_temporary_failure_is_a_soft_bounce_and_a_complaint_is_a_complaint() -> None:
    [soft] = parse_report(report("soft_bounce.eml", address="Bob@Example.com"))
    assert (soft.type, soft.bounce_type, soft.email) == ("bounce", "soft", "bob@example.com")
    assert "over quota" in soft.reason
    assert soft.occurred_at == datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
    [complaint] = parse_report(report("complaint.eml"))
    assert (complaint.type, complaint.email, complaint.message_id) == (
        "complaint",
        "ada@example.com",
        "<m1@trellis.test>",
    )


@pytest.mark.parametrize(
    "raw",
    [
        b"From: someone@example.com\r\nSubject: Re: Hi\r\n\r\nThanks, but no thanks.\r\n",
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x--\r\n",
        b"\x00\xff garbage",
        b"",
    ],
)
def test_anything_else_is_no_event(raw: bytes) -> None:
    assert parse_report(raw) == []


def test_a_delayed_notice_is_not_a_bounce() -> None:
    raw = report("soft_bounce.eml").replace(b"Action: failed", b"Action: delayed")
    assert parse_report(raw) == []


class FakeImap:
    """Enough of imaplib.IMAP4 for the poller, over a list of messages."""

    def __init__(self, mailbox: dict[bytes, tuple[bytes, set[str]]]) -> None:
        self.mailbox = mailbox
        self.logged_out = False

    def select(self, name: str) -> tuple[str, list[bytes]]:
        return ("OK", [str(len(self.mailbox)).encode()]) if name == "Bounces" else ("NO", [])

    def uid(self, command: str, *args: Any) -> tuple[str, list[Any]]:
        if command == "SEARCH":
            unseen = [u for u, (_, flags) in self.mailbox.items() if "\\Seen" not in flags]
            return "OK", [b" ".join(unseen)]
        if command == "FETCH":
            uid = args[0]
            return "OK", [(b"1 (UID " + uid + b" BODY[] {1}", self.mailbox[uid][0]), b")"]
        if command == "STORE":
            for uid in args[0].encode().split(b","):
                self.mailbox[uid][1].add("\\Seen")
            return "OK", []
        raise AssertionError(command)

    def expunge(self) -> None:
        raise AssertionError("not asked to delete")

    def logout(self) -> None:
        self.logged_out = True


async def test_the_bounce_mailbox_sets_dnc_on_hard_bounces_and_complaints(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    email = await create_email(admin)
    ada, bob, cid = await contacts(
        admin,
        {"email": "ada@example.com"},
        {"email": "bob@example.com"},
        {"email": "cid@example.com"},
    )
    await send_campaign(harness, admin, email["id"], [ada, bob, cid])
    ids = {r["contact_id"]: r["message_id"] for r in await sends(admin, email["id"])}
    mailbox = {
        b"11": (report("hard_bounce.eml", message_id=ids[ada]), set()),
        b"12": (report("soft_bounce.eml", address="bob@example.com", message_id=ids[bob]), set()),
        b"13": (report("complaint.eml", address="cid@example.com", message_id=ids[cid]), set()),
        b"14": (b"Subject: out of office\r\n\r\nBack Monday.\r\n", set()),
        b"15": (report("hard_bounce.eml", message_id=ids[ada]), {"\\Seen"}),
    }
    config = ImapConfig(host="imap.test", mailbox="Bounces")
    events = await poll_bounces(
        harness.database, harness.clock, config, factory=lambda _: FakeImap(mailbox)
    )
    assert events == 3
    assert all("\\Seen" in flags for _, flags in mailbox.values())
    # Nothing unread: the next poll reads nothing.
    again = await poll_bounces(
        harness.database, harness.clock, config, factory=lambda _: FakeImap(mailbox)
    )
    assert again == 0

    async def dnc(contact_id: int) -> list[str]:
        body = (await admin.get(f"/api/v2/contacts/{contact_id}")).json()
        return [d["reason"] for d in body["dnc"] if d["channel"] == "email"]

    assert await dnc(ada) == ["bounced"]
    assert await dnc(bob) == []  # a soft bounce is only recorded
    assert await dnc(cid) == ["complaint"]
    figures = (await admin.get(f"/api/v2/emails/{email['id']}/stats")).json()
    assert (figures["bounces"], figures["hard_bounces"], figures["complaints"]) == (2, 1, 1)


async def test_the_provider_webhook(harness: Harness, admin: httpx.AsyncClient) -> None:
    email = await create_email(admin)
    ada, bob, cid = await contacts(
        admin,
        {"email": "ada@example.com"},
        {"email": "bob@example.com"},
        {"email": "cid@example.com"},
    )
    await send_campaign(harness, admin, email["id"], [ada, bob])
    rows = {r["contact_id"]: r for r in await sends(admin, email["id"])}
    events = [
        {"type": "delivered", "message_id": rows[ada]["message_id"].strip("<>")},
        {"type": "delivered", "send_id": rows[bob]["id"]},
        {
            "type": "bounce",
            "bounce_type": "hard",
            "message_id": rows[ada]["message_id"],
            "reason": "550 5.1.1 user unknown",
            "occurred_at": "2026-03-02T10:00:00Z",
        },
        {"type": "bounce", "bounce_type": "hard", "message_id": rows[ada]["message_id"]},
        {"type": "complaint", "email": "CID@example.com"},
        {"type": "bounce", "email": "nobody@example.com"},
        {"type": "bounce", "send_id": 987654},
    ]
    response = await admin.post("/api/v2/email-events", json=events)
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 5, "unmatched": [5, 6], "dnc_added": 2}
    figures = (await admin.get(f"/api/v2/emails/{email['id']}/stats")).json()
    assert (figures["delivered"], figures["bounces"], figures["complaints"]) == (2, 1, 0)
    ada_dnc = (await admin.get(f"/api/v2/contacts/{ada}")).json()["dnc"]
    assert [(d["channel"], d["reason"]) for d in ada_dnc] == [("email", "bounced")]
    cid_dnc = (await admin.get(f"/api/v2/contacts/{cid}")).json()["dnc"]
    assert [d["reason"] for d in cid_dnc] == ["complaint"]


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ([{"type": "bounced", "email": "a@example.com"}], "/0/type"),
        ([{"type": "bounce"}], "/0"),
        ([{"type": "bounce", "email": "a@example.com", "bounce_type": "medium"}], "/0/bounce_type"),
        ({"type": "bounce"}, ""),
        ([{"type": "bounce", "email": "a@example.com"}] * 1001, ""),
    ],
)
async def test_bad_webhook_input_is_a_problem_naming_the_field(
    admin: httpx.AsyncClient, body: Any, pointer: str
) -> None:
    response = await admin.post("/api/v2/email-events", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    pointers = [e["pointer"] for e in response.json()["errors"]]
    assert any(p == pointer or p.startswith(pointer) for p in pointers), pointers


async def test_the_webhook_needs_a_token(harness: Harness) -> None:
    response = await harness.client().post("/api/v2/email-events", json=[])
    assert response.status_code == 401
