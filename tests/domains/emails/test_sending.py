"""Campaigns send real mail to aiosmtpd: the marketing and transactional rules, the frequency
cap, SMTP failures, headers and DKIM."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.domains.campaigns.helpers import campaign, contacts, edge, journey, step, trigger
from tests.domains.emails.helpers import create_email, deliver, sends
from tests.fixtures.api import Harness
from tests.fixtures.smtp import SmtpServer
from trellis.domains.emails.service import email_service


async def run_campaign(
    harness: Harness, admin: httpx.AsyncClient, config: dict[str, Any], people: list[int]
) -> dict[str, Any]:
    send = step("email.send", config, name="Send spring")
    body = await campaign(admin, events=[send], edges=[edge(None, send)])
    added = await admin.post(
        f"/api/v2/campaigns/{body['id']}/members", json={"contact_ids": people}
    )
    assert added.status_code == 200, added.text
    await trigger(harness)
    return body


async def test_a_campaign_sends_personalised_mail_with_the_required_headers(
    harness: Harness, admin: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    email = await create_email(admin, utm={"source": "trellis", "campaign": "spring"})
    [ada] = await contacts(admin, {"email": "ada@example.com", "first_name": "Ada"})
    await run_campaign(harness, admin, {"email_id": email["id"]}, [ada])
    await deliver(harness)
    [received] = smtp_server.to("ada@example.com")
    message = received.message
    assert message["Subject"] == "Hi Ada"
    assert message["From"] == "Trellis News <news@trellis.test>"
    [row] = await sends(admin, email["id"])
    assert row["status"] == "sent"
    assert message["Message-ID"] == row["message_id"]
    unsubscribe = message["List-Unsubscribe"]
    assert "<http://testserver/t/unsubscribe/" in unsubscribe
    assert "<mailto:unsubscribe@trellis.test?subject=unsubscribe%20" in unsubscribe
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Hello Ada," in html
    assert "https://shop.example.com/spring?utm_source=trellis&amp;utm_campaign=spring" in html
    assert "Hello Ada," in text
    assert "https://shop.example.com/spring?utm_source=trellis&utm_campaign=spring" in text
    # The unsubscribe link in the body is the one in the header.
    url = unsubscribe.split("<")[1].split(">")[0]
    assert f'href="{url}"' in html


async def test_marketing_respects_dnc_and_goes_once_transactional_ignores_both(
    harness: Harness, admin: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    email = await create_email(admin)
    ada, bob = await contacts(
        admin,
        {"email": "ada@example.com", "first_name": "Ada"},
        {"email": "bob@example.com", "first_name": "Bob"},
    )
    dnc = await admin.post(
        f"/api/v2/contacts/{bob}/dnc", json={"channel": "email", "reason": "unsubscribed"}
    )
    assert dnc.status_code == 200, dnc.text
    marketing = await run_campaign(harness, admin, {"email_id": email["id"]}, [ada, bob])
    await deliver(harness)
    assert len(smtp_server.to("ada@example.com")) == 1
    assert smtp_server.to("bob@example.com") == []
    steps = await journey(admin, marketing["id"], bob)
    assert steps == [("Send spring", "warned")]
    rows = {r["contact_id"]: r for r in await sends(admin, email["id"])}
    assert rows[bob]["status"] == "skipped"
    assert "Do Not Contact" in rows[bob]["reason"]

    # A second marketing campaign with the same email: Ada already has it.
    await run_campaign(harness, admin, {"email_id": email["id"]}, [ada])
    await deliver(harness)
    assert len(smtp_server.to("ada@example.com")) == 1
    skipped = [r for r in await sends(admin, email["id"]) if r["status"] == "skipped"]
    assert {r["reason"] for r in skipped} >= {"Already received this email."}

    # Transactional: DNC and earlier sends do not matter.
    await run_campaign(
        harness, admin, {"email_id": email["id"], "kind": "transactional"}, [ada, bob]
    )
    await deliver(harness)
    assert len(smtp_server.to("ada@example.com")) == 2
    assert len(smtp_server.to("bob@example.com")) == 1


async def test_a_merged_contact_keeps_what_the_other_was_sent(
    harness: Harness, admin: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    email = await create_email(admin)
    ada, old_ada = await contacts(
        admin,
        {"email": "ada@example.com", "first_name": "Ada"},
        {"email": "ada.old@example.com", "first_name": "Ada"},
    )
    await run_campaign(harness, admin, {"email_id": email["id"]}, [old_ada])
    await deliver(harness)
    assert len(smtp_server.to("ada.old@example.com")) == 1
    merged = await admin.post(f"/api/v2/contacts/{ada}/merge", json={"other_id": old_ada})
    assert merged.status_code == 200, merged.text
    assert [r["contact_id"] for r in await sends(admin, email["id"])] == [ada]

    # Marketing goes once per person: the merged contact already had this one.
    await run_campaign(harness, admin, {"email_id": email["id"]}, [ada])
    await deliver(harness)
    assert smtp_server.to("ada@example.com") == []
    skipped = [r for r in await sends(admin, email["id"]) if r["status"] == "skipped"]
    assert [r["reason"] for r in skipped] == ["Already received this email."]


@pytest.mark.parametrize("mode", ["refuse", "drop"])
async def test_smtp_failures_are_retried_with_backoff_and_never_sent_twice(
    harness: Harness, admin: httpx.AsyncClient, smtp_server: SmtpServer, mode: str
) -> None:
    email = await create_email(admin)
    people = await contacts(
        admin, *({"email": f"p{i}@example.com", "first_name": f"P{i}"} for i in range(4))
    )
    smtp_server.fail(mode, times=100)
    await run_campaign(harness, admin, {"email_id": email["id"]}, people)
    await deliver(harness)
    rows = await sends(admin, email["id"])
    assert {r["status"] for r in rows} == {"queued"}
    assert {r["attempts"] for r in rows} == {1}
    assert all(r["reason"].startswith("Attempt 1 failed") for r in rows)
    assert smtp_server.received == []
    # Not due yet: the backoff holds them back.
    await deliver(harness)
    assert {r["attempts"] for r in await sends(admin, email["id"])} == {1}
    smtp_server.fail(mode, times=0)
    harness.clock.advance(timedelta(minutes=2))
    await deliver(harness)
    await deliver(harness)
    harness.clock.advance(timedelta(hours=1))
    await deliver(harness)
    rows = await sends(admin, email["id"])
    assert {r["status"] for r in rows} == {"sent"}
    assert sorted(m.recipients[0] for m in smtp_server.received) == sorted(
        f"p{i}@example.com" for i in range(4)
    )


async def test_a_rejected_message_fails_for_good_and_a_retried_one_gives_up(
    harness: Harness, admin: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    email = await create_email(admin)
    [ada] = await contacts(admin, {"email": "ada@example.com"})
    smtp_server.fail("reject", times=1)
    await run_campaign(harness, admin, {"email_id": email["id"]}, [ada])
    await deliver(harness)
    [row] = await sends(admin, email["id"])
    assert row["status"] == "failed"
    assert "550" in row["reason"]

    [bob] = await contacts(admin, {"email": "bob@example.com"})
    other = await create_email(admin, name="Other")
    smtp_server.fail("refuse", times=10)
    await run_campaign(harness, admin, {"email_id": other["id"]}, [bob])
    for _ in range(4):
        await deliver(harness)
        harness.clock.advance(timedelta(hours=1))
    [row] = await sends(admin, other["id"])
    assert row["status"] == "failed"
    assert row["attempts"] == 3
    assert smtp_server.received == []


async def test_frequency_cap_defers_or_skips_and_says_why(
    harness: Harness, admin: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    email_service.policy.frequency_limit = 1
    email_service.policy.frequency_days = 1
    first = await create_email(admin, name="First")
    second = await create_email(admin, name="Second")
    third = await create_email(admin, name="Third")
    ada, bob = await contacts(admin, {"email": "ada@example.com"}, {"email": "bob@example.com"})
    await run_campaign(harness, admin, {"email_id": first["id"]}, [ada, bob])
    await deliver(harness)
    deferring = await run_campaign(harness, admin, {"email_id": second["id"]}, [ada])
    skipping = await run_campaign(
        harness, admin, {"email_id": third["id"], "over_cap": "skip"}, [bob]
    )
    await deliver(harness)
    assert len(smtp_server.to("ada@example.com")) == 1
    [deferred] = await sends(admin, second["id"])
    assert deferred["status"] == "queued"
    assert deferred["reason"].startswith("Deferred by the frequency cap (1 marketing email per 1")
    [skipped] = await sends(admin, third["id"])
    assert skipped["status"] == "skipped"
    assert skipped["reason"].startswith("Frequency cap reached")
    trace = await admin.get(f"/api/v2/campaigns/{deferring['id']}/contacts/{ada}/journey")
    assert "Deferred by the frequency cap" in str(trace.json())
    assert "Frequency cap reached" in str(
        (await admin.get(f"/api/v2/campaigns/{skipping['id']}/contacts/{bob}/journey")).json()
    )
    # A day later the deferred message goes; transactional mail never waits.
    harness.clock.advance(timedelta(days=1, minutes=1))
    await deliver(harness)
    assert len(smtp_server.to("ada@example.com")) == 2
    # A contact's own cap overrides the default.
    override = await admin.put(
        f"/api/v2/contacts/{bob}/email-frequency",
        json={"frequency_limit": 5, "frequency_days": 1},
    )
    assert override.status_code == 200, override.text
    assert override.json()["effective_limit"] == 5
    fourth = await create_email(admin, name="Fourth")
    await run_campaign(harness, admin, {"email_id": fourth["id"]}, [bob])
    await deliver(harness)
    assert len(smtp_server.to("bob@example.com")) == 2


async def test_send_to_user_notifies_the_owner_and_addresses(
    harness: Harness, admin: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    email = await create_email(admin, subject="Hot lead: {contactfield=email}")
    me = (await admin.get("/api/v2/auth/me")).json()["user"]
    [ada] = await contacts(admin, {"email": "ada@example.com", "owner_id": me["id"]})
    notify = step(
        "email.send_to_user",
        {"email_id": email["id"], "addresses": ["sales@example.com"]},
    )
    body = await campaign(admin, events=[notify], edges=[edge(None, notify)])
    await admin.post(f"/api/v2/campaigns/{body['id']}/members", json={"contact_ids": [ada]})
    await trigger(harness)
    await deliver(harness)
    for address in (me["email"], "sales@example.com"):
        [message] = smtp_server.to(address)
        assert message.message["Subject"] == "Hot lead: ada@example.com"
    assert smtp_server.to("ada@example.com") == []
