"""The SMTP transport against a real MTA: Debian's Postfix on loopback (tests/fixtures/postfix.py),
plain, with STARTTLS, and with AUTH (Cyrus SASL) required after STARTTLS. Each test reads what
Postfix delivered into its Maildirs. ADR 0017."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime

import httpx
import pytest

from tests.domains.campaigns.helpers import contacts
from tests.domains.emails.helpers import create_email
from tests.fixtures.cli import Cli
from tests.fixtures.postfix import PASSWORD, USER, Postfix, postfix
from trellis.runtime.mailer import (
    DeliveryResult,
    DeliveryStatus,
    Envelope,
    OutgoingMessage,
    SmtpConfig,
    SmtpTransport,
    build_message,
    new_message_id,
)

__all__ = ["postfix"]

HTML = "<p>Grüße, Zoë.</p>\n.a line that starts with a dot\n<p>" + "x" * 300 + "</p>\n"
TEXT = "Grüße, Zoë.\n.a line that starts with a dot\n"


def _message(key: int, to: str) -> OutgoingMessage:
    raw = build_message(
        Envelope(
            message_id=new_message_id("trellis.test"),
            from_address="news@trellis.test",
            from_name="Trellis News",
            to_address=to,
            subject=f"Frühling {key}",
            date=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
            list_unsubscribe_url=f"https://mail.trellis.test/u/{key}",
        ),
        html=HTML,
        text=TEXT,
    )
    return OutgoingMessage(key=key, sender="news@trellis.test", recipients=[to], raw=raw)


def _as_stored(raw: bytes) -> bytes:
    """A Maildir keeps LF line ends, below the headers Postfix adds."""
    return raw.replace(b"\r\n", b"\n")


async def _deliver(
    config: SmtpConfig, messages: list[OutgoingMessage]
) -> dict[int, DeliveryResult]:
    transport = SmtpTransport(config)
    try:
        results = await transport.deliver(messages)
    finally:
        await transport.aclose()
    return dict(results)


async def test_messages_arrive_byte_for_byte_over_a_plain_session(postfix: Postfix) -> None:
    messages = [_message(i, f"{name}@trellis.test") for i, name in enumerate(["ada", "bob"] * 3)]
    results = await _deliver(
        SmtpConfig(host="127.0.0.1", port=postfix.plain_port, tls="none", pool_size=2), messages
    )
    assert {k: r.status for k, r in results.items()} == {i: DeliveryStatus.SENT for i in range(6)}
    stored = postfix.wait_for("trellis.test", "ada", 3) + postfix.wait_for("trellis.test", "bob", 3)
    for message in messages:
        [copy] = [s for s in stored if s.endswith(_as_stored(message.raw))]
        parsed = email.message_from_bytes(copy, policy=email.policy.default)
        assert parsed["Subject"] == f"Frühling {message.key}"
        assert "with ESMTP id" in parsed["Received"]


async def test_starttls_and_auth_deliver_and_postfix_records_both(postfix: Postfix) -> None:
    message = _message(1, "zoe@trellis.test")
    results = await _deliver(
        SmtpConfig(
            host="127.0.0.1",
            port=postfix.secure_port,
            tls="starttls",
            user=USER,
            password=PASSWORD,
            validate_certs=False,
        ),
        [message],
    )
    assert results[1].status is DeliveryStatus.SENT
    [stored] = postfix.wait_for("trellis.test", "zoe", 1)
    # ESMTPSA: over TLS (S) and authenticated (A), RFC 3848.
    assert b"with ESMTPSA id" in stored
    assert stored.endswith(_as_stored(message.raw))


@pytest.mark.parametrize(
    ("config", "detail"),
    [
        (
            {"tls": "starttls", "user": USER, "password": "wrong", "validate_certs": False},
            "Authentication failed: 535",
        ),
        # Postfix offers AUTH only after STARTTLS: the password is not sent in the clear.
        (
            {"tls": "none", "user": USER, "password": PASSWORD},
            "does not offer AUTH; the credentials were not sent",
        ),
        # The self-signed certificate is refused unless the operator says otherwise.
        ({"tls": "starttls", "user": USER, "password": PASSWORD}, "CERTIFICATE_VERIFY_FAILED"),
    ],
)
async def test_a_session_that_cannot_be_set_up_sends_nothing_and_is_retried_later(
    postfix: Postfix, config: dict[str, object], detail: str
) -> None:
    results = await _deliver(
        SmtpConfig(host="127.0.0.1", port=postfix.secure_port, **config),  # type: ignore[arg-type]
        [_message(1, "bob@xn--bcher-kva.example")],
    )
    assert results[1].status is DeliveryStatus.TEMPORARY
    assert detail in results[1].detail
    assert postfix.delivered("xn--bcher-kva.example", "bob") == []


async def test_without_auth_postfix_refuses_and_nothing_is_delivered(postfix: Postfix) -> None:
    results = await _deliver(
        SmtpConfig(
            host="127.0.0.1", port=postfix.secure_port, tls="starttls", validate_certs=False
        ),
        [_message(1, "bob@xn--bcher-kva.example")],
    )
    assert results[1].status is DeliveryStatus.PERMANENT
    assert "554" in results[1].detail
    assert postfix.delivered("xn--bcher-kva.example", "bob") == []


async def test_internationalised_addresses_reach_their_mailboxes(postfix: Postfix) -> None:
    results = await _deliver(
        SmtpConfig(host="127.0.0.1", port=postfix.plain_port, tls="none", pool_size=1),
        # The domain as IDNA in the envelope; the local part needs Postfix's SMTPUTF8.
        [_message(1, "ada@Bücher.example"), _message(2, "zoë@trellis.test")],
    )
    assert {k: r.status for k, r in results.items()} == {
        1: DeliveryStatus.SENT,
        2: DeliveryStatus.SENT,
    }
    [idn] = postfix.wait_for("xn--bcher-kva.example", "ada", 1)
    assert b"Delivered-To: ada@xn--bcher-kva.example" in idn
    [utf8] = postfix.wait_for("trellis.test", "zoë", 1)
    assert "Delivered-To: zoë@trellis.test".encode() in utf8
    assert b"with UTF8SMTP id" in utf8 or b"with UTF8ESMTP id" in utf8


async def test_the_cli_delivers_a_broadcast_through_postfix_with_starttls_and_auth(
    postfix: Postfix, admin: httpx.AsyncClient, cli: Cli
) -> None:
    """The chosen client in a real `trellis` process, configured from the environment the way
    an operator would: `emails broadcasts run` sends through Postfix over STARTTLS with AUTH,
    the certificate checked against a trust store that holds it (SSL_CERT_FILE)."""
    news = await create_email(admin, kind="broadcast", subject="Frühling bei Trellis")
    people = await contacts(admin, {"email": "ada@example.com"}, {"email": "bob@example.com"})
    segment = (await admin.post("/api/v2/segments", json={"name": "Everyone"})).json()["id"]
    added = await admin.post(f"/api/v2/segments/{segment}/members", json={"contact_ids": people})
    assert added.status_code < 300, added.text
    broadcast = await admin.post(
        "/api/v2/broadcasts",
        json={"name": "March", "email_id": news["id"], "segment_ids": [segment]},
    )
    assert broadcast.status_code == 201, broadcast.text
    scheduled = await admin.post(f"/api/v2/broadcasts/{broadcast.json()['id']}/schedule")
    assert scheduled.status_code < 300, scheduled.text

    smtp = {
        "TRELLIS_MAIL__TRANSPORT": "smtp",
        "TRELLIS_MAIL__SMTP_HOST": "127.0.0.1",
        "TRELLIS_MAIL__SMTP_PORT": str(postfix.secure_port),
        "TRELLIS_MAIL__SMTP_TLS": "starttls",
        "TRELLIS_MAIL__SMTP_USER": USER,
        "TRELLIS_MAIL__SMTP_PASSWORD": PASSWORD,
        "TRELLIS_MAIL__FROM_ADDRESS": "news@trellis.test",
        "SSL_CERT_FILE": str(postfix.certificate),
    }
    result = cli("emails", "broadcasts", "run", "--deliver", extra_env=smtp)
    assert result.exit_code == 0, result.output
    assert "emails sent 2" in result.output, result.output
    for name in ("ada", "bob"):
        [stored] = postfix.wait_for("example.com", name, 1)
        assert b"with ESMTPSA id" in stored
        parsed = email.message_from_bytes(stored, policy=email.policy.default)
        assert parsed["Subject"] == "Frühling bei Trellis"
