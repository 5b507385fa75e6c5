"""One SMTP session over aiosmtplib, shaped as the mail transport uses it.

aiosmtplib speaks the protocol (TLS, STARTTLS, AUTH, SMTPUTF8, dot-stuffing); this module adds
what a marketing sender needs on top: the outcome of each message in the terms the transport
retries by (temporary, permanent, partly sent), when the content started to go out (after that
a lost connection must not lead to a second copy), and the checks that keep a message from
leaving in a form a relay would mangle or misread.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence

import aiosmtplib

from trellis.runtime.smtp_client import (
    RecipientRefusal,
    SmtpConnectFailed,
    SmtpDisconnected,
    SmtpError,
    SmtpPartiallySent,
    SmtpRecipientsRefused,
    SmtpReply,
    check_lines,
    envelope_address,
    local_hostname,
)


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
                await smtp.login(user, password)
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
