"""The SMTP transport and its client (aiosmtplib, ADR 0017) against real aiosmtpd servers on
127.0.0.1 and a raw asyncio server that misbehaves on purpose: TLS and STARTTLS, bytes injected
before the TLS handshake, AUTH offered or not, refusals, over-long lines, internationalised
addresses, connections the server closed while idle. Postfix: test_postfix_conformance.py."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.fixtures.tls import self_signed_certificate
from trellis.runtime.mailer import (
    DeliveryStatus,
    OutgoingMessage,
    SmtpConfig,
    SmtpTransport,
)
from trellis.runtime.smtp_client import SmtpConnectFailed, SmtpConnection


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Handler:
    pipelining: bool = True
    refuse_rcpt: set[str] = field(default_factory=set)
    data_reply: str | None = None
    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    # The next this many sessions are dropped at MAIL FROM, before anything was accepted.
    drops: int = 0

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        if self.pipelining:
            return [*responses[:-1], "250-PIPELINING", responses[-1]]
        return responses

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.drops > 0:
            self.drops -= 1
            server.transport.close()
            return "421 4.3.2 Closing the connection"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.refuse_rcpt:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply is not None:
            return self.data_reply
        self.received.append(
            (envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content))
        )
        return "250 Accepted"


@dataclass
class Server:
    handler: Handler
    port: int
    controller: Controller


def _start(handler: Handler, port: int | None = None, **options: Any) -> Server:
    port = port or _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    return Server(handler, port, controller)


@pytest.fixture
def server() -> Iterator[Server]:
    running = _start(Handler())
    yield running
    running.controller.stop()


def _message(key: int, raw: bytes, to: str = "ada@example.com") -> OutgoingMessage:
    return OutgoingMessage(key=key, sender="news@example.com", recipients=[to], raw=raw)


RAW = (
    b"From: news@example.com\r\nTo: ada@example.com\r\nSubject: Hi\r\n\r\n"
    b"Hello\r\n.starts with a dot\r\n..two dots\r\n.\r\nlast line\r\n"
)


async def test_a_pooled_session_sends_every_message_once_with_the_dots_intact(
    server: Server,
) -> None:
    transport = SmtpTransport(SmtpConfig(host="127.0.0.1", port=server.port, pool_size=2))
    try:
        messages = [_message(i, RAW, f"c{i}@example.com") for i in range(7)]
        results = await transport.deliver(messages)
    finally:
        await transport.aclose()
    assert {k: r.status for k, r in results.items()} == {i: DeliveryStatus.SENT for i in range(7)}
    assert sorted(r[1][0] for r in server.handler.received) == sorted(
        f"c{i}@example.com" for i in range(7)
    )
    # The server undoes the dot-stuffing: the message arrives exactly as built.
    assert all(raw == RAW for _, _, raw in server.handler.received)


async def test_line_endings_arrive_as_crlf_and_leading_dots_intact(server: Server) -> None:
    connection = await SmtpConnection.open("127.0.0.1", server.port)
    await connection.send("news@example.com", ["ada@example.com"], b"Subject: x\n\n.a\nb\r.c")
    await connection.quit()
    assert [raw for _, _, raw in server.handler.received] == [
        b"Subject: x\r\n\r\n.a\r\nb\r\n.c\r\n"
    ]


async def test_a_refused_recipient_fails_for_good_and_the_connection_goes_on() -> None:
    running = _start(Handler(refuse_rcpt={"gone@example.com"}))
    transport = SmtpTransport(SmtpConfig(host="127.0.0.1", port=running.port, pool_size=1))
    try:
        results = await transport.deliver(
            [_message(1, RAW, "gone@example.com"), _message(2, RAW, "ada@example.com")]
        )
    finally:
        await transport.aclose()
        running.controller.stop()
    assert results[1].status is DeliveryStatus.PERMANENT
    assert "550" in results[1].detail
    assert results[2].status is DeliveryStatus.SENT
    assert [r[1] for r in running.handler.received] == [["ada@example.com"]]


@pytest.mark.parametrize(
    ("reply", "status"),
    [("451 4.3.0 Later", DeliveryStatus.TEMPORARY), ("554 5.7.1 No", DeliveryStatus.PERMANENT)],
)
async def test_a_refused_message_is_classified_by_the_reply(
    reply: str, status: DeliveryStatus
) -> None:
    running = _start(Handler(data_reply=reply))
    transport = SmtpTransport(SmtpConfig(host="127.0.0.1", port=running.port, pool_size=1))
    try:
        results = await transport.deliver([_message(1, RAW), _message(2, RAW)])
    finally:
        await transport.aclose()
        running.controller.stop()
    assert [results[1].status, results[2].status] == [status, status]
    assert results[1].detail == reply.replace(" ", " ", 1)


async def test_a_connection_the_server_closed_while_idle_is_replaced_without_a_failure() -> None:
    handler = Handler()
    running = _start(handler)
    transport = SmtpTransport(SmtpConfig(host="127.0.0.1", port=running.port, pool_size=1))
    try:
        first = await transport.deliver([_message(1, RAW)])
        # The server goes away and comes back: the pooled connection is dead.
        running.controller.stop()
        running = _start(handler, port=running.port)
        second = await transport.deliver([_message(2, RAW)])
    finally:
        await transport.aclose()
        running.controller.stop()
    assert first[1].status is DeliveryStatus.SENT
    assert second[2].status is DeliveryStatus.SENT
    assert len(handler.received) == 2


async def test_a_server_that_cannot_be_reached_is_a_temporary_failure() -> None:
    transport = SmtpTransport(SmtpConfig(host="127.0.0.1", port=_free_port(), timeout_s=5))
    try:
        results = await transport.deliver([_message(1, RAW)])
    finally:
        await transport.aclose()
    assert results[1].status is DeliveryStatus.TEMPORARY
    assert "SmtpConnectFailed" in results[1].detail


def _authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"mailer",
        b"s3cret",
    )
    return AuthResult(success=ok, handled=False)


@pytest.mark.parametrize("mechanisms", [None, ["PLAIN"], ["LOGIN"]])
async def test_auth_logs_in_and_a_wrong_password_is_refused(mechanisms: list[str] | None) -> None:
    options: dict[str, Any] = {
        "authenticator": _authenticator,
        "auth_require_tls": False,
    }
    if mechanisms == ["LOGIN"]:
        options["auth_exclude_mechanism"] = ["PLAIN"]
    elif mechanisms == ["PLAIN"]:
        options["auth_exclude_mechanism"] = ["LOGIN"]
    running = _start(Handler(), **options)
    good = SmtpTransport(
        SmtpConfig(host="127.0.0.1", port=running.port, user="mailer", password="s3cret")
    )
    bad = SmtpTransport(
        SmtpConfig(host="127.0.0.1", port=running.port, user="mailer", password="wrong")
    )
    try:
        sent = await good.deliver([_message(1, RAW)])
        refused = await bad.deliver([_message(2, RAW)])
    finally:
        await good.aclose()
        await bad.aclose()
        running.controller.stop()
    assert sent[1].status is DeliveryStatus.SENT
    # Credentials are the installation's problem, not the message's: it is tried again later.
    assert refused[2].status is DeliveryStatus.TEMPORARY
    assert "Authentication failed" in refused[2].detail
    assert len(running.handler.received) == 1


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_certificate(
        tmp_path_factory.mktemp("smtp-tls"), common_name="127.0.0.1", alt_name="IP:127.0.0.1"
    )


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


async def test_starttls_upgrades_before_auth(certificate: tuple[Path, Path]) -> None:
    running = _start(
        Handler(),
        tls_context=_server_context(certificate),
        require_starttls=True,
        authenticator=_authenticator,
    )
    transport = SmtpTransport(
        SmtpConfig(
            host="127.0.0.1",
            port=running.port,
            tls="starttls",
            user="mailer",
            password="s3cret",
            validate_certs=False,
        )
    )
    try:
        results = await transport.deliver([_message(1, RAW)])
    finally:
        await transport.aclose()
        running.controller.stop()
    assert results[1].status is DeliveryStatus.SENT
    assert [raw for _, _, raw in running.handler.received] == [RAW]


async def test_starttls_checks_the_certificate_unless_told_not_to(
    certificate: tuple[Path, Path],
) -> None:
    running = _start(Handler(), tls_context=_server_context(certificate), require_starttls=True)
    try:
        with pytest.raises(SmtpConnectFailed):
            await SmtpConnection.open("127.0.0.1", running.port, tls="starttls")
    finally:
        running.controller.stop()
    assert running.handler.received == []


async def test_a_server_without_starttls_is_not_used_in_the_clear() -> None:
    running = _start(Handler())
    try:
        with pytest.raises(SmtpConnectFailed, match="STARTTLS"):
            await SmtpConnection.open("127.0.0.1", running.port, tls="starttls")
    finally:
        running.controller.stop()


async def test_a_session_dropped_at_mail_from_is_retried_later_and_sent_once() -> None:
    handler = Handler(drops=1)
    running = _start(handler)
    transport = SmtpTransport(SmtpConfig(host="127.0.0.1", port=running.port, pool_size=1))
    try:
        first = await transport.deliver([_message(1, RAW)])
        second = await transport.deliver([_message(1, RAW)])
    finally:
        await transport.aclose()
        running.controller.stop()
    assert first[1].status is DeliveryStatus.TEMPORARY
    assert second[1].status is DeliveryStatus.SENT
    assert len(handler.received) == 1


# -- issue 15, finding 8: each defect of the former own client, against the client in use ------


@dataclass
class RawServer:
    """An SMTP server on plain asyncio streams that says exactly what it is told to, to test
    what a well-behaved server never does. It records every command line it reads."""

    context: ssl.SSLContext | None = None
    # Sent in the same write as "220 Ready to start TLS", before the handshake.
    injected: bytes = b""
    offer_auth: bool = False
    commands: list[str] = field(default_factory=list)
    messages: list[bytes] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        encrypted = False
        writer.write(b"220 raw.test ESMTP\r\n")
        while line := await reader.readline():
            command = line.decode("utf-8", "replace").rstrip("\r\n")
            self.commands.append(command)
            verb = command.split(" ", 1)[0].upper()
            if verb == "EHLO" and encrypted:
                writer.write(b"250-raw.test\r\n250-XENCRYPTED\r\n250 8BITMIME\r\n")
            elif verb == "EHLO":
                offers = [b"250-raw.test"]
                if self.context is not None:
                    offers.append(b"250-STARTTLS")
                if self.offer_auth:
                    offers.append(b"250-AUTH PLAIN")
                writer.write(b"\r\n".join([*offers, b"250 8BITMIME"]) + b"\r\n")
            elif verb == "STARTTLS" and self.context is not None:
                writer.write(b"220 Ready to start TLS\r\n" + self.injected)
                await writer.drain()
                await writer.start_tls(self.context)
                encrypted = True
            elif verb == "DATA":
                writer.write(b"354 Go ahead\r\n")
                body = b""
                while (chunk := await reader.readline()) != b".\r\n":
                    body += chunk[1:] if chunk.startswith(b".") else chunk
                self.messages.append(body)
                writer.write(b"250 Queued\r\n")
            elif verb == "AUTH":
                writer.write(b"235 2.7.0 Authenticated\r\n")
            elif verb == "QUIT":
                writer.write(b"221 Bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 OK\r\n")
            await writer.drain()
        writer.close()


@contextlib.asynccontextmanager
async def raw_server(server: RawServer) -> AsyncIterator[int]:
    listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    try:
        yield int(listening.sockets[0].getsockname()[1])
    finally:
        listening.close()


# What a man in the middle would slip in ahead of the handshake: a fake EHLO answer that
# offers nothing (no AUTH, no SIZE), and a fake acceptance that would shift every later reply.
INJECTED = b"250-raw.test\r\n250-XINJECTED\r\n250 OK\r\n250 2.0.0 Injected acceptance\r\n"


async def test_bytes_sent_before_the_tls_handshake_are_never_read_as_replies(
    certificate: tuple[Path, Path],
) -> None:
    server = RawServer(context=_server_context(certificate), injected=INJECTED)
    async with raw_server(server) as port:
        connection = await SmtpConnection.open(
            "127.0.0.1", port, tls="starttls", validate_certs=False
        )
        # The extensions are the encrypted EHLO's, not the injected one's.
        assert "xencrypted" in connection.extensions
        assert "xinjected" not in connection.extensions
        await connection.send("news@example.com", ["ada@example.com"], RAW)
        await connection.quit()
    assert [c.split(":")[0].split(" ")[0] for c in server.commands] == [
        "EHLO",
        "STARTTLS",
        "EHLO",
        "MAIL",
        "RCPT",
        "DATA",
        "QUIT",
    ]
    assert server.messages == [RAW]


async def test_credentials_are_never_sent_to_a_server_that_does_not_offer_auth() -> None:
    server = RawServer(offer_auth=False)
    async with raw_server(server) as port:
        transport = SmtpTransport(
            SmtpConfig(host="127.0.0.1", port=port, user="mailer", password="s3cret", pool_size=1)
        )
        try:
            results = await transport.deliver([_message(1, RAW)])
        finally:
            await transport.aclose()
    assert results[1].status is DeliveryStatus.TEMPORARY
    assert "does not offer AUTH; the credentials were not sent" in results[1].detail
    assert not any(c.upper().startswith("AUTH") for c in server.commands)
    assert not any("s3cret" in c or "czNjcmV0" in c for c in server.commands)
    assert server.messages == []


async def test_auth_goes_out_when_the_server_offers_it() -> None:
    server = RawServer(offer_auth=True)
    async with raw_server(server) as port:
        connection = await SmtpConnection.open("127.0.0.1", port, user="mailer", password="pw")
        await connection.quit()
    assert any(c.startswith("AUTH PLAIN") for c in server.commands)


@pytest.mark.parametrize("where", ["header", "body"])
async def test_a_line_over_998_characters_is_refused_before_anything_is_sent(
    server: Server, where: str
) -> None:
    head, body = b"Subject: Hi\r\n", b"Hello\r\n"
    if where == "header":
        head += b"X-Long: " + b"a" * 991 + b"\r\n"
    else:
        body += b"b" * 999 + b"\r\n"
    fits = b"Subject: Hi\r\nX-Long: " + b"a" * 990 + b"\r\n\r\n" + b"c" * 998 + b"\r\n"
    transport = SmtpTransport(SmtpConfig(host="127.0.0.1", port=server.port, pool_size=1))
    try:
        results = await transport.deliver([_message(1, head + b"\r\n" + body), _message(2, fits)])
    finally:
        await transport.aclose()
    assert results[1].status is DeliveryStatus.PERMANENT
    assert "999 characters long; SMTP allows 998" in results[1].detail
    assert results[2].status is DeliveryStatus.SENT
    assert [raw for _, _, raw in server.handler.received] == [fits]


async def test_an_internationalised_domain_goes_out_as_idna(server: Server) -> None:
    transport = SmtpTransport(SmtpConfig(host="127.0.0.1", port=server.port, pool_size=1))
    try:
        results = await transport.deliver(
            [
                OutgoingMessage(
                    key=1, sender="news@bücher.example", recipients=["ada@Bücher.example"], raw=RAW
                )
            ]
        )
    finally:
        await transport.aclose()
    assert results[1].status is DeliveryStatus.SENT
    [(sender, recipients, _)] = server.handler.received
    assert sender == "news@xn--bcher-kva.example"
    assert recipients == ["ada@xn--bcher-kva.example"]


@pytest.mark.parametrize("smtputf8", [True, False])
async def test_a_non_ascii_local_part_needs_smtputf8(smtputf8: bool) -> None:
    running = _start(Handler(), enable_SMTPUTF8=smtputf8)
    transport = SmtpTransport(SmtpConfig(host="127.0.0.1", port=running.port, pool_size=1))
    try:
        results = await transport.deliver([_message(1, RAW, "zoë@bücher.example")])
    finally:
        await transport.aclose()
        running.controller.stop()
    if smtputf8:
        assert results[1].status is DeliveryStatus.SENT
        assert [r for _, r, _ in running.handler.received] == [["zoë@xn--bcher-kva.example"]]
    else:
        assert results[1].status is DeliveryStatus.PERMANENT
        assert "does not accept non-ASCII addresses" in results[1].detail
        assert running.handler.received == []
