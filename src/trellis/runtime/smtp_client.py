"""SMTP out, over aiosmtplib, shaped as the mail transport uses it.

aiosmtplib speaks the protocol: plain, implicit TLS and STARTTLS connections (discarding what a
server sends between its "220 Ready to start TLS" and the handshake), EHLO, AUTH (PLAIN, LOGIN,
CRAM-MD5, only when the server offers AUTH), SMTPUTF8, line endings and dot-stuffing. ADR 0017
says why Trellis went back to it from a client of its own. This module adds what a marketing
sender needs on top:

- each message's outcome in the terms the transport retries by: a reply refusing it
  (:class:`SmtpReply`, 4xx or 5xx), every recipient refused, some refused (partly sent: never
  retried, it would reach the others twice), or no answer (:class:`SmtpError`);
- when its content started to go out: after that a lost connection leaves it unknown whether
  the server kept it, so it is not sent again;
- checks before anything goes out: no line over RFC 5321's 998 characters (a relay would break
  it wherever it likes, or refuse the message), internationalised domains as IDNA (so a server
  without SMTPUTF8 takes them), SMTPUTF8 only for a non-ASCII local part and only when the
  server offers it, and credentials never sent to a server that does not offer AUTH.
"""

from __future__ import annotations

import re
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import aiosmtplib
import idna

# An address goes into a command line: nothing that could end the line or start another.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


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


class SmtpPartiallySent(SmtpError):
    """The server took the message for some recipients and refused the others."""

    def __init__(self, refusals: Sequence[RecipientRefusal]) -> None:
        super().__init__("; ".join(f"{r.recipient}: {r.code} {r.message}" for r in refusals))
        self.refusals = list(refusals)


class SmtpConnection:
    def __init__(self, smtp: aiosmtplib.SMTP) -> None:
        self._smtp = smtp
        # Messages accepted over this connection: a connection that has sent nothing is fresh.
        self.sent = 0
        # The current message's content has started to go out: from here on, a lost
        # connection leaves it unknown whether the server kept it.
        self.data_started = False

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
        tls_context: ssl.SSLContext | None = None,
    ) -> SmtpConnection:
        smtp = aiosmtplib.SMTP(
            hostname=host,
            port=port,
            local_hostname=local_hostname(),
            use_tls=tls == "tls",
            # "none" means plain: no upgrade behind the operator's back (a local relay's
            # self-signed certificate would then fail every connection).
            start_tls=tls == "starttls",
            validate_certs=validate_certs,
            tls_context=tls_context,
            timeout=timeout_s,
        )
        try:
            await smtp.connect()
            # After STARTTLS aiosmtplib forgets what the server offered and asks again only
            # before its next command: ask now, so AUTH is decided on the encrypted answer.
            if smtp.is_ehlo_or_helo_needed:
                try:
                    await smtp.ehlo()
                except aiosmtplib.SMTPHeloError:
                    await smtp.helo()
            if user and password:
                if not smtp.supports_extension("auth"):
                    raise SmtpConnectFailed(
                        "The server does not offer AUTH; the credentials were not sent. "
                        + (
                            "It may offer it only over TLS: set smtp_tls."
                            if tls == "none"
                            else "Check the host and port, or unset smtp_user."
                        )
                    )
                try:
                    await smtp.login(user, password)
                except aiosmtplib.SMTPAuthenticationError as exc:
                    raise SmtpConnectFailed(
                        f"Authentication failed: {exc.code} {exc.message}"
                    ) from exc
        except SmtpConnectFailed:
            smtp.close()
            raise
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            smtp.close()
            raise SmtpConnectFailed(f"Cannot set up a session with {host}:{port}: {exc}") from exc
        return cls(smtp)

    @property
    def extensions(self) -> dict[str, str]:
        return dict(self._smtp.esmtp_extensions)

    @property
    def is_open(self) -> bool:
        return self._smtp.is_connected

    async def send(self, sender: str, recipients: Sequence[str], data: bytes) -> None:
        """Send one message (raw RFC 5322 bytes with CRLF). Returns when the server accepted
        it; raises :class:`SmtpReply`, :class:`SmtpRecipientsRefused`,
        :class:`SmtpPartiallySent` or :class:`SmtpError` otherwise."""
        self.data_started = False
        check_lines(data)
        sender = envelope_address(sender)
        recipients = [envelope_address(r) for r in recipients]
        utf8 = not all(a.isascii() for a in (sender, *recipients))
        smtp = self._smtp
        if utf8 and not smtp.supports_extension("smtputf8"):
            raise SmtpReply(553, "The server does not accept non-ASCII addresses.", "MAIL")
        encoding = "utf-8" if utf8 else "ascii"
        options = ["SMTPUTF8"] if utf8 else []
        if smtp.supports_extension("size"):
            options.append(f"SIZE={len(data)}")
        try:
            await smtp.mail(sender, options=options, encoding=encoding)
            replies = [await self._recipient(r, encoding) for r in recipients]
            if not any(code in (250, 251) for code, _ in replies):
                raise SmtpRecipientsRefused(
                    [
                        RecipientRefusal(r, c, m)
                        for r, (c, m) in zip(recipients, replies, strict=True)
                    ]
                )
            self.data_started = True
            await smtp.data(data)
        except aiosmtplib.SMTPResponseException as exc:
            command = {
                aiosmtplib.SMTPSenderRefused: "MAIL",
                aiosmtplib.SMTPDataError: "DATA",
            }.get(type(exc), "")
            raise SmtpReply(exc.code, exc.message, command) from exc
        except aiosmtplib.SMTPServerDisconnected as exc:
            raise SmtpDisconnected(str(exc)) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise SmtpError(f"{type(exc).__name__}: {exc}") from exc
        self.sent += 1
        partial = [
            RecipientRefusal(r, c, m)
            for r, (c, m) in zip(recipients, replies, strict=True)
            if c not in (250, 251)
        ]
        if partial:
            # Some recipients have it: trying again would send it to them twice.
            raise SmtpPartiallySent(partial)

    async def _recipient(self, recipient: str, encoding: str) -> tuple[int, str]:
        try:
            reply = await self._smtp.rcpt(recipient, encoding=encoding)
        except aiosmtplib.SMTPRecipientRefused as exc:
            return exc.code, exc.message
        return reply.code, reply.message

    async def reset(self) -> None:
        try:
            await self._smtp.rset()
        except aiosmtplib.SMTPResponseException as exc:
            raise SmtpReply(exc.code, exc.message, "RSET") from exc
        except aiosmtplib.SMTPException as exc:
            raise SmtpError(str(exc)) from exc

    async def quit(self) -> None:
        try:
            await self._smtp.quit()
        finally:
            self._smtp.close()

    def close(self) -> None:
        self._smtp.close()
