"""A small SMTP client on asyncio streams, with command pipelining (RFC 2920).

What the mail transport needs and nothing more: a connection (plain, implicit TLS or STARTTLS),
EHLO, AUTH (PLAIN, LOGIN, CRAM-MD5), and one message at a time over it. When the server
advertises PIPELINING, MAIL FROM, every RCPT TO and DATA go out in one write and the message in
a second, so a message costs two round trips instead of four or more; without it, the commands
go one by one. General-purpose clients also rewrite every message's line endings with a regular
expression; messages here are built with CRLF already, so the endings are only checked.

A message counts as accepted only on the reply to its final dot: anything before that, whatever
happened, means the server did not take it.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import re
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

import idna

_LINE_ENDINGS = re.compile(rb"\r\n|\r|\n")
# An address goes into a command line: nothing that could end the line or start another.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_REPLY_LINES = 1000


class SmtpError(Exception):
    """Anything that stopped a message that was not an SMTP reply: a lost connection, a
    server that does not speak as expected."""


class SmtpDisconnected(SmtpError):
    pass


class SmtpReply(SmtpError):
    """A reply refusing a command, with the command it answered."""

    def __init__(self, code: int, message: str, command: str = "") -> None:
        super().__init__(f"{code} {message}".strip())
        self.code = code
        self.message = message
        self.command = command


@dataclass(frozen=True)
class RecipientRefusal:
    recipient: str
    code: int
    message: str


class SmtpRecipientsRefused(SmtpError):
    """No recipient was accepted, so nothing was sent."""

    def __init__(self, refusals: Sequence[RecipientRefusal]) -> None:
        super().__init__("; ".join(f"{r.recipient}: {r.code} {r.message}" for r in refusals))
        self.refusals = list(refusals)


class SmtpConnectFailed(SmtpError):
    """The connection could not be set up: the greeting, EHLO, STARTTLS or AUTH failed."""


# RFC 5321 4.5.3.1.6: a line of text is at most 998 characters before its CRLF.
MAX_LINE = 998


class MessageRefused(SmtpReply):
    """The message cannot go out as built: nothing was sent, and trying again cannot help."""

    def __init__(self, message: str) -> None:
        super().__init__(554, message, "DATA")


def check_lines(data: bytes) -> None:
    # A relay that meets a longer line breaks it where it likes, often inside an encoded word
    # or a URL, or refuses the message; better to say so here, before anything is sent.
    lines = data.split(b"\n")
    if max(map(len, lines)) <= MAX_LINE + 1:
        return
    for number, line in enumerate(lines, start=1):
        length = len(line) - line.endswith(b"\r")
        if length > MAX_LINE:
            raise MessageRefused(
                f"Line {number} of the message is {length} characters long; SMTP allows {MAX_LINE}."
            )


def envelope_address(address: str) -> str:
    """The address as it goes into MAIL FROM or RCPT TO: an internationalised domain as its
    ASCII form (IDNA 2008, UTS 46), so a server without SMTPUTF8 takes it; a non-ASCII local
    part stays, and needs SMTPUTF8."""
    if _CONTROL.search(address):
        raise SmtpReply(501, "The address contains a control character.", "MAIL")
    local, at, domain = address.rpartition("@")
    if not at or domain.isascii():
        return address
    try:
        return f"{local}@{idna.encode(domain, uts46=True).decode('ascii')}"
    except idna.IDNAError as exc:
        raise SmtpReply(553, f"The domain {domain!r} is not a valid IDN: {exc}", "RCPT") from exc


@cache
def local_hostname() -> str:
    return socket.getfqdn() or "localhost"


def prepare_data(raw: bytes) -> bytes:
    """The message as it travels after DATA: CRLF line ends, dot-stuffed, with the final dot."""
    if raw.count(b"\n") != raw.count(b"\r\n") or raw.count(b"\r") != raw.count(b"\r\n"):
        raw = _LINE_ENDINGS.sub(b"\r\n", raw)
    if raw.startswith(b"."):
        raw = b"." + raw
    if b"\r\n." in raw:
        raw = raw.replace(b"\r\n.", b"\r\n..")
    if not raw.endswith(b"\r\n"):
        raw += b"\r\n"
    return raw + b".\r\n"


@dataclass
class SmtpConnection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    timeout: float
    extensions: dict[str, str] = field(default_factory=dict)
    # Messages accepted over this connection: a connection that has sent nothing yet is fresh.
    sent: int = 0
    # The current message's content has started to go out: from here on, a lost connection
    # leaves it unknown whether the server kept it.
    data_started: bool = False

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        *,
        tls: str = "none",
        user: str | None = None,
        password: str | None = None,
        timeout_s: float = 30.0,
        validate_certs: bool = True,
    ) -> SmtpConnection:
        timeout = timeout_s
        context = _ssl_context(validate_certs) if tls in ("tls", "starttls") else None
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    host,
                    port,
                    ssl=context if tls == "tls" else None,
                    server_hostname=host if tls == "tls" else None,
                )
        except (OSError, TimeoutError) as exc:
            raise SmtpConnectFailed(f"Cannot connect to {host}:{port}: {exc}") from exc
        connection = cls(reader, writer, timeout)
        try:
            async with asyncio.timeout(timeout):
                await connection._start(host, tls, context, user, password)
        except (OSError, TimeoutError, SmtpError) as exc:
            connection.close()
            if isinstance(exc, SmtpConnectFailed):
                raise
            raise SmtpConnectFailed(f"Setting up the session failed: {exc}") from exc
        except BaseException:
            connection.close()
            raise
        return connection

    async def _start(
        self,
        host: str,
        tls: str,
        context: ssl.SSLContext | None,
        user: str | None,
        password: str | None,
    ) -> None:
        code, message = await self._reply()
        if code != 220:
            raise SmtpConnectFailed(f"The server greeted with {code} {message}")
        await self._hello()
        if tls == "starttls":
            if "starttls" not in self.extensions:
                raise SmtpConnectFailed("The server does not offer STARTTLS.")
            await self._expect(b"STARTTLS\r\n", 220, "STARTTLS")
            assert context is not None
            await self.writer.start_tls(context, server_hostname=host)
            await self._hello()
        if user and password:
            await self._login(user, password)

    async def _hello(self) -> None:
        self.writer.write(f"EHLO {local_hostname()}\r\n".encode())
        code, message = await self._reply()
        if code != 250:
            self.writer.write(f"HELO {local_hostname()}\r\n".encode())
            code, message = await self._reply()
            if code != 250:
                raise SmtpConnectFailed(f"HELO: {code} {message}")
            self.extensions = {}
            return
        extensions: dict[str, str] = {}
        for line in message.split("\n")[1:]:
            keyword, _, params = line.strip().partition(" ")
            extensions[keyword.lower()] = params
        self.extensions = extensions

    async def _login(self, user: str, password: str) -> None:
        offered = self.extensions.get("auth", "").upper().split()
        try:
            if "PLAIN" in offered or not offered:
                secret = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
                await self._expect(f"AUTH PLAIN {secret}\r\n".encode(), 235, "AUTH")
            elif "LOGIN" in offered:
                await self._expect(b"AUTH LOGIN\r\n", 334, "AUTH")
                await self._expect(base64.b64encode(user.encode()) + b"\r\n", 334, "AUTH")
                await self._expect(base64.b64encode(password.encode()) + b"\r\n", 235, "AUTH")
            elif "CRAM-MD5" in offered:
                challenge = await self._expect(b"AUTH CRAM-MD5\r\n", 334, "AUTH")
                digest = hmac.new(password.encode(), base64.b64decode(challenge), "md5")
                answer = f"{user} {digest.hexdigest()}".encode()
                await self._expect(base64.b64encode(answer) + b"\r\n", 235, "AUTH")
            else:
                raise SmtpConnectFailed(f"No supported AUTH mechanism among {offered}.")
        except SmtpReply as exc:
            raise SmtpConnectFailed(f"Authentication failed: {exc}") from exc

    async def _expect(self, line: bytes, code: int, command: str) -> str:
        self.writer.write(line)
        got, message = await self._reply()
        if got != code:
            raise SmtpReply(got, message, command)
        return message

    async def _reply(self) -> tuple[int, str]:
        lines: list[str] = []
        for _ in range(MAX_REPLY_LINES):
            try:
                line = await self.reader.readline()
            except (ValueError, asyncio.LimitOverrunError) as exc:
                raise SmtpError("The server's reply is too long.") from exc
            if not line.endswith(b"\n"):
                raise SmtpDisconnected("The server closed the connection.")
            try:
                code = int(line[:3])
            except ValueError:
                raise SmtpError(f"Malformed reply: {line[:80]!r}") from None
            lines.append(line[4:].strip().decode("utf-8", "replace"))
            if line[3:4] != b"-":
                return code, "\n".join(lines)
        raise SmtpError("The server's reply has too many lines.")

    @property
    def is_open(self) -> bool:
        return not (self.writer.is_closing() or self.reader.at_eof())

    async def send(self, sender: str, recipients: Sequence[str], data: bytes) -> None:
        """Send one message (``data`` from :func:`prepare_data`). Returns when the server
        accepted it; raises :class:`SmtpReply`, :class:`SmtpRecipientsRefused` or
        :class:`SmtpError` otherwise."""
        self.data_started = False
        async with asyncio.timeout(self.timeout):
            await self._send(sender, recipients, data)
        self.sent += 1

    async def _send(self, sender: str, recipients: Sequence[str], data: bytes) -> None:
        check_lines(data)
        sender = envelope_address(sender)
        recipients = [envelope_address(r) for r in recipients]
        utf8 = not all(a.isascii() for a in (sender, *recipients))
        if utf8 and "smtputf8" not in self.extensions:
            raise SmtpReply(553, "The server does not accept non-ASCII addresses.", "MAIL")
        mail = f"MAIL FROM:<{sender}>{' SMTPUTF8' if utf8 else ''}\r\n"
        rcpts = [f"RCPT TO:<{r}>\r\n" for r in recipients]
        write = self.writer.write
        if "pipelining" in self.extensions:
            write("".join((mail, *rcpts, "DATA\r\n")).encode())
            mail_reply = await self._reply()
            rcpt_replies = [await self._reply() for _ in rcpts]
            data_reply = await self._reply()
        else:
            write(mail.encode())
            mail_reply = await self._reply()
            if mail_reply[0] != 250:
                raise SmtpReply(*mail_reply, "MAIL")
            rcpt_replies = []
            for line in rcpts:
                write(line.encode())
                rcpt_replies.append(await self._reply())
            if not any(code in (250, 251) for code, _ in rcpt_replies):
                raise _refused(recipients, rcpt_replies)
            write(b"DATA\r\n")
            data_reply = await self._reply()
        if mail_reply[0] != 250:
            if data_reply[0] == 354:
                await self._abandon_data()
            raise SmtpReply(*mail_reply, "MAIL")
        accepted = any(code in (250, 251) for code, _ in rcpt_replies)
        if not accepted:
            if data_reply[0] == 354:
                await self._abandon_data()
            raise _refused(recipients, rcpt_replies)
        if data_reply[0] != 354:
            raise SmtpReply(*data_reply, "DATA")
        self.data_started = True
        write(data)
        await self.writer.drain()
        code, message = await self._reply()
        if code != 250:
            raise SmtpReply(code, message, "DATA")
        refused = [(r, reply) for r, reply in zip(recipients, rcpt_replies, strict=True)]
        partial = [RecipientRefusal(r, c, m) for r, (c, m) in refused if c not in (250, 251)]
        if partial:
            # Some recipients have it: trying again would send it to them twice.
            raise SmtpPartiallySent(partial)

    async def _abandon_data(self) -> None:
        """RFC 2920: a DATA accepted after every recipient was refused is closed with an
        empty message, which the server then refuses or drops."""
        self.writer.write(b".\r\n")
        await self._reply()

    async def reset(self) -> None:
        async with asyncio.timeout(self.timeout):
            await self._expect(b"RSET\r\n", 250, "RSET")

    async def quit(self) -> None:
        try:
            async with asyncio.timeout(self.timeout):
                self.writer.write(b"QUIT\r\n")
                await self._reply()
        finally:
            self.close()

    def close(self) -> None:
        self.writer.close()


class SmtpPartiallySent(SmtpError):
    """The server took the message for some recipients and refused the others."""

    def __init__(self, refusals: Sequence[RecipientRefusal]) -> None:
        super().__init__("; ".join(f"{r.recipient}: {r.code} {r.message}" for r in refusals))
        self.refusals = list(refusals)


def _refused(
    recipients: Sequence[str], replies: Sequence[tuple[int, str]]
) -> SmtpRecipientsRefused:
    return SmtpRecipientsRefused(
        [RecipientRefusal(r, c, m) for r, (c, m) in zip(recipients, replies, strict=True)]
    )


def _ssl_context(validate: bool) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if not validate:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
