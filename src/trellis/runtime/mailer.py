"""Mail out: building raw RFC 5322 messages, DKIM signing, and the transports.

Two transports share one contract. ``outbox`` (the embedded default) delivers nothing: the
dispatcher keeps each message in the database so that a new installation shows exactly what
would have gone out. ``smtp`` keeps a pool of connections open (aiosmtplib, with TLS or
STARTTLS and authentication) and respects a rate limit in messages per second.

Messages are assembled by hand rather than with :mod:`email.message`: at a thousand messages a
second the standard library's generator is the bottleneck, while the format here (one
multipart/alternative with quoted-printable parts) is small enough to write directly.
"""

from __future__ import annotations

import asyncio
import binascii
import contextlib
import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.header import Header
from email.utils import format_datetime, formataddr
from enum import StrEnum
from pathlib import Path
from typing import Protocol

import aiosmtplib

log = logging.getLogger(__name__)

CRLF = b"\r\n"
# Headers a DKIM signature covers: those a forwarder must not change.
DKIM_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"reply-to",
    b"mime-version",
    b"content-type",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
)


def new_message_id(domain: str) -> str:
    return f"<{uuid.uuid4().hex}@{domain or 'localhost'}>"


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].strip().lower() or "localhost"


def _header_value(value: str) -> str:
    """ASCII as is; anything else as RFC 2047 encoded words."""
    if value.isascii():
        return value
    return Header(value, "utf-8", maxlinelen=76).encode(linesep="\r\n")


def _address(name: str, address: str) -> str:
    return formataddr((name, address), charset="utf-8") if name else address


def _qp(text: str) -> bytes:
    """Quoted-printable with CRLF line ends (b2a_qp runs in C)."""
    normalised = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    return binascii.b2a_qp(normalised, quotetabs=False, istext=True).replace(b"\n", CRLF)


@dataclass(frozen=True)
class Envelope:
    """Everything a message carries besides its content."""

    message_id: str
    from_address: str
    to_address: str
    subject: str
    from_name: str = ""
    to_name: str = ""
    reply_to: str = ""
    date: datetime | None = None
    list_unsubscribe_url: str | None = None
    list_unsubscribe_mailto: str | None = None
    language: str = ""
    headers: Sequence[tuple[str, str]] = ()


def build_message(envelope: Envelope, *, html: str, text: str) -> bytes:
    """A multipart/alternative message (plain text, then HTML) as raw bytes with CRLF."""
    boundary = f"=_t{uuid.uuid4().hex}"
    lines = [
        f"Message-ID: {envelope.message_id}",
        f"Date: {format_datetime(envelope.date) if envelope.date else ''}",
        f"From: {_address(envelope.from_name, envelope.from_address)}",
        f"To: {_address(envelope.to_name, envelope.to_address)}",
        f"Subject: {_header_value(envelope.subject)}",
        "MIME-Version: 1.0",
    ]
    if envelope.reply_to:
        lines.append(f"Reply-To: {envelope.reply_to}")
    if envelope.language:
        lines.append(f"Content-Language: {envelope.language}")
    unsubscribe = []
    if envelope.list_unsubscribe_url:
        unsubscribe.append(f"<{envelope.list_unsubscribe_url}>")
    if envelope.list_unsubscribe_mailto:
        unsubscribe.append(f"<mailto:{envelope.list_unsubscribe_mailto}>")
    if unsubscribe:
        lines.append(f"List-Unsubscribe: {', '.join(unsubscribe)}")
        if envelope.list_unsubscribe_url:
            # RFC 8058: mailbox providers POST to the URL, without asking the reader again.
            lines.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    for name, value in envelope.headers:
        lines.append(f"{name}: {_header_value(value)}")
    lines.append(f'Content-Type: multipart/alternative; boundary="{boundary}"')
    head = "\r\n".join(lines).encode("utf-8")
    marker = f"--{boundary}".encode()
    part_head = b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    return b"".join(
        (
            head,
            CRLF,
            CRLF,
            marker,
            b"\r\nContent-Type: text/plain; charset=utf-8\r\n",
            part_head,
            _qp(text),
            CRLF,
            marker,
            b"\r\nContent-Type: text/html; charset=utf-8\r\n",
            part_head,
            _qp(html),
            CRLF,
            marker,
            b"--\r\n",
        )
    )


@dataclass(frozen=True)
class DkimSigner:
    selector: str
    domain: str
    private_key: bytes

    @classmethod
    def from_file(cls, selector: str, domain: str, path: Path) -> DkimSigner:
        return cls(selector, domain, path.read_bytes())

    def sign(self, raw: bytes) -> bytes:
        import dkim  # type: ignore[import-untyped]

        signature = dkim.sign(
            raw,
            self.selector.encode(),
            self.domain.encode(),
            self.private_key,
            include_headers=list(DKIM_HEADERS),
        )
        return bytes(signature) + raw


@dataclass(frozen=True)
class OutgoingMessage:
    key: int
    sender: str
    recipients: Sequence[str]
    raw: bytes


class DeliveryStatus(StrEnum):
    SENT = "sent"
    # Worth another try later: the connection failed, the server said 4xx.
    TEMPORARY = "temporary"
    # The server refused for good (5xx): trying again would not help.
    PERMANENT = "permanent"


@dataclass(frozen=True)
class DeliveryResult:
    status: DeliveryStatus
    detail: str = ""


SENT = DeliveryResult(DeliveryStatus.SENT)


class Transport(Protocol):
    name: str
    # True: the dispatcher stores each message (the outbox) instead of it leaving the process.
    keeps_messages: bool

    async def deliver(
        self, messages: Sequence[OutgoingMessage]
    ) -> Mapping[int, DeliveryResult]: ...

    async def aclose(self) -> None: ...


class OutboxTransport:
    name = "outbox"
    keeps_messages = True

    async def deliver(self, messages: Sequence[OutgoingMessage]) -> Mapping[int, DeliveryResult]:
        return {m.key: SENT for m in messages}

    async def aclose(self) -> None:
        return None


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    tls: str = "none"  # none | starttls | tls
    user: str | None = None
    password: str | None = None
    timeout_s: float = 30.0
    pool_size: int = 4
    rate_per_second: float = 0.0
    validate_certs: bool = True


class RateLimiter:
    """Spaces sends evenly: at most ``rate`` per second over any stretch of time."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        if not self._interval:
            return
        async with self._lock:
            now = time.monotonic()
            at = max(now, self._next)
            self._next = at + self._interval
        if at > now:
            await asyncio.sleep(at - now)


def classify(exc: BaseException) -> DeliveryResult:
    """What a failed send means: a 5xx answer is final, anything else is worth a retry."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        detail = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
        final = bool(codes) and all(code >= 500 for code in codes)
        return DeliveryResult(
            DeliveryStatus.PERMANENT if final else DeliveryStatus.TEMPORARY, detail
        )
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        status = DeliveryStatus.PERMANENT if exc.code >= 500 else DeliveryStatus.TEMPORARY
        return DeliveryResult(status, f"{exc.code} {exc.message}")
    return DeliveryResult(DeliveryStatus.TEMPORARY, f"{type(exc).__name__}: {exc}".strip())


@dataclass
class _Slot:
    client: aiosmtplib.SMTP | None = None
    sent: int = field(default=0)


class SmtpTransport:
    """A pool of SMTP connections; each message goes over whichever is free."""

    name = "smtp"
    keeps_messages = False

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._limiter = RateLimiter(config.rate_per_second)
        self._slots: asyncio.Queue[_Slot] = asyncio.Queue()
        for _ in range(config.pool_size):
            self._slots.put_nowait(_Slot())

    async def _connect(self) -> aiosmtplib.SMTP:
        config = self.config
        client = aiosmtplib.SMTP(
            hostname=config.host,
            port=config.port,
            use_tls=config.tls == "tls",
            start_tls=config.tls == "starttls",
            validate_certs=config.validate_certs,
            timeout=config.timeout_s,
            username=config.user,
            password=config.password,
        )
        await client.connect()
        return client

    async def _drop(self, slot: _Slot) -> None:
        client, slot.client = slot.client, None
        if client is not None:
            # A broken connection is being thrown away: how it closes does not matter.
            with contextlib.suppress(Exception):
                client.close()

    async def _send_one(self, message: OutgoingMessage) -> DeliveryResult:
        await self._limiter.wait()
        slot = await self._slots.get()
        try:
            if slot.client is None or not slot.client.is_connected:
                slot.client = await self._connect()
            errors, _ = await slot.client.sendmail(
                message.sender, list(message.recipients), message.raw
            )
            if errors:
                detail = "; ".join(f"{r}: {e.code} {e.message}" for r, e in errors.items())
                return DeliveryResult(DeliveryStatus.TEMPORARY, detail)
            return SENT
        except aiosmtplib.SMTPRecipientsRefused as exc:
            await self._reset(slot)
            return classify(exc)
        except aiosmtplib.SMTPResponseException as exc:
            # After a 5xx the session is sound; a 4xx may leave it in any state.
            await (self._reset(slot) if exc.code >= 500 else self._drop(slot))
            return classify(exc)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            await self._drop(slot)
            return classify(exc)
        finally:
            self._slots.put_nowait(slot)

    async def _reset(self, slot: _Slot) -> None:
        if slot.client is None:
            return
        try:
            await slot.client.rset()
        except Exception:
            await self._drop(slot)

    async def deliver(self, messages: Sequence[OutgoingMessage]) -> Mapping[int, DeliveryResult]:
        results = await asyncio.gather(*(self._send_one(m) for m in messages))
        return {m.key: r for m, r in zip(messages, results, strict=True)}

    async def aclose(self) -> None:
        slots = [self._slots.get_nowait() for _ in range(self._slots.qsize())]
        for slot in slots:
            if slot.client is not None and slot.client.is_connected:
                try:
                    await slot.client.quit()
                except Exception:
                    await self._drop(slot)
            self._slots.put_nowait(slot)
