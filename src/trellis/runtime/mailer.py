"""Mail out: building raw RFC 5322 messages, DKIM signing, and the transports.

Two transports share one contract. ``outbox`` (the embedded default) delivers nothing: the
dispatcher keeps each message in the database so that a new installation shows exactly what
would have gone out. ``smtp`` keeps a pool of connections open (aiosmtplib, through
:mod:`trellis.runtime.smtp_client`, with TLS or STARTTLS and authentication) and respects a
rate limit in messages per second.

Messages are assembled by hand rather than with :mod:`email.message`: at a thousand messages a
second the standard library's generator is the bottleneck, while the format here (one
multipart/alternative with quoted-printable parts) is small enough to write directly.
"""

from __future__ import annotations

import asyncio
import binascii
import contextlib
import logging
import re
import time
import uuid
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.header import Header
from email.utils import format_datetime, formataddr
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import idna

from trellis.runtime.smtp_client import (
    SmtpConnectFailed,
    SmtpConnection,
    SmtpError,
    SmtpPartiallySent,
    SmtpRecipientsRefused,
    SmtpReply,
)

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


# A line break in a header value would end the header and start one of the writer's choosing
# (a Bcc:, a second From:); other control characters are not text. Tab is folding white space.
_NOT_IN_HEADER = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# RFC 5322 2.2: a field name is printable ASCII without the colon.
_HEADER_NAME = re.compile(r"[!-9;-~]+")


class UnsafeHeader(ValueError):
    """A header value that would change the message's structure: the message is not built."""

    def __init__(self, header: str) -> None:
        super().__init__(
            f"The {header} header contains a line break or a control character; "
            "the message was not built."
        )
        self.header = header


def check_headers(fields: Iterable[tuple[str, str]]) -> None:
    """Refuses a header name that is not a field name, or a value with a line break or a
    control character. The API refuses them already; this holds for data from anywhere else
    (the database edited by hand, an import, a contact's data in a rendered value)."""
    fields = list(fields)
    # One search over everything: a clean message, the usual case, costs a single scan.
    if not _NOT_IN_HEADER.search("".join(value for _, value in fields)):
        names_ok = all(_HEADER_NAME.fullmatch(name) for name, _ in fields)
        if names_ok:
            return
    for name, value in fields:
        if not _HEADER_NAME.fullmatch(name) or _NOT_IN_HEADER.search(value):
            raise UnsafeHeader(name if _HEADER_NAME.fullmatch(name) else repr(name))


def _header_value(name: str, value: str) -> str:
    """A header's value, on one line when it fits in 78 characters with its name, else folded;
    non-ASCII text as RFC 2047 encoded words."""
    if value.isascii() and len(name) + len(value) <= 76:
        return value
    charset = "us-ascii" if value.isascii() else "utf-8"
    return Header(value, charset, maxlinelen=78, header_name=name).encode(linesep="\r\n")


@lru_cache(maxsize=1024)
def _address(name: str, address: str) -> str:
    return formataddr((name, address), charset="utf-8") if name else address


def _recipient(name: str, address: str) -> str:
    # Not cached: every message has its own recipient.
    address = _ascii_address(address)
    return formataddr((name, address), charset="utf-8") if name else address


def _ascii_address(address: str) -> str:
    """An internationalised domain in a header as its ASCII form, as in the envelope; a
    non-ASCII local part stays as it is (RFC 6532, for servers that take SMTPUTF8)."""
    if address.isascii():
        return address
    local, _, domain = address.rpartition("@")
    try:
        return f"{local}@{idna.encode(domain, uts46=True).decode('ascii')}"
    except idna.IDNAError:
        return address


@lru_cache(maxsize=64)
def _date_header(date: datetime | None) -> str:
    # A batch's messages share their date: formatting it is the costly part of a header.
    return format_datetime(date) if date else ""


def _boundary(message_id: str) -> str:
    # "=_" never occurs in a quoted-printable body (it would be "=3D_"), so the boundary
    # cannot collide with the content and needs no randomness of its own.
    token = "".join(c for c in message_id[:40] if c.isalnum())
    return f"=_t{token or uuid.uuid4().hex}"


def _qp(text: str) -> bytes:
    """Quoted-printable with CRLF line ends (b2a_qp runs in C)."""
    normalised = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    return binascii.b2a_qp(normalised, quotetabs=False, istext=True).replace(b"\n", CRLF)


# The longest quoted-printable line, the soft line break's "=" included (RFC 2045 6.7).
QP_LINE = 76


def _qp_piece(text: str) -> tuple[bytes, int, int, bool]:
    """A piece of a body encoded on its own: the bytes, the length of its first and of its
    last line, and whether it holds a line break."""
    data = _qp(text)
    tail = len(data) - data.rfind(b"\r\n") - 2 if b"\r\n" in data else len(data)
    if tail >= QP_LINE:
        # The last line is full: a soft break before its last character (or escape) leaves
        # room for the one that may have to follow when the next piece is joined.
        cut = 3 if data[-3:-2] == b"=" else 1
        data = data[:-cut] + b"=\r\n" + data[-cut:]
    first = data.find(b"\r\n")
    if first < 0:
        return data, len(data), len(data), False
    return data, first, len(data) - data.rfind(b"\r\n") - 2, True


class QuotedPrintable:
    """Quoted-printable for a body rendered as pieces, most of which are the same in every
    message of an email version (the template's literal text) and are encoded once here.

    Pieces encoded apart join into valid quoted-printable: an escape never spans two pieces,
    and whitespace at a piece's end is always escaped. Where a piece would carry a line past
    76 characters a soft line break goes in first, which decoding removes."""

    def __init__(self, known: Iterable[str] = ()) -> None:
        self._known = {piece: _qp_piece(piece) for piece in known if piece}

    def encode(self, pieces: Iterable[str]) -> bytes:
        known = self._known
        out: list[bytes] = []
        column = 0
        for piece in pieces:
            if not piece:
                continue
            found = known.get(piece)
            if found is not None:
                data, first, last, multiline = found
            elif (
                len(piece) < QP_LINE
                and piece.isascii()
                and piece.isprintable()
                and "=" not in piece
                and piece[-1] != " "
            ):
                # Most values (a name, a city, a signed URL) need no escape at all.
                data, first, last, multiline = piece.encode(), len(piece), len(piece), False
            else:
                data, first, last, multiline = _qp_piece(piece)
            if column and column + first > QP_LINE - 1:
                out.append(b"=\r\n")
                column = 0
            out.append(data)
            column = last if multiline else column + first
        return b"".join(out)


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


def build_message(
    envelope: Envelope, *, html: str, text: str, html_qp: bytes | None = None
) -> bytes:
    """A multipart/alternative message (plain text, then HTML) as raw bytes with CRLF.
    ``html_qp``: the HTML already quoted-printable (see :class:`QuotedPrintable`).
    Raises :class:`UnsafeHeader` for a header value with a line break or control character."""
    check_headers(
        (
            ("Message-ID", envelope.message_id),
            ("From", envelope.from_name),
            ("From", envelope.from_address),
            ("To", envelope.to_name),
            ("To", envelope.to_address),
            ("Subject", envelope.subject),
            ("Reply-To", envelope.reply_to),
            ("Content-Language", envelope.language),
            ("List-Unsubscribe", envelope.list_unsubscribe_url or ""),
            ("List-Unsubscribe", envelope.list_unsubscribe_mailto or ""),
            *envelope.headers,
        )
    )
    boundary = _boundary(envelope.message_id)
    lines = [
        f"Message-ID: {envelope.message_id}",
        f"Date: {_date_header(envelope.date)}",
        f"From: {_address(envelope.from_name, _ascii_address(envelope.from_address))}",
        f"To: {_recipient(envelope.to_name, envelope.to_address)}",
        f"Subject: {_header_value('Subject', envelope.subject)}",
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
        # Folded between the two: a signed URL and a mailto make a line longer than 78.
        lines.append("List-Unsubscribe: " + ",\r\n ".join(unsubscribe))
        if envelope.list_unsubscribe_url:
            # RFC 8058: mailbox providers POST to the URL, without asking the reader again.
            lines.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    for name, value in envelope.headers:
        lines.append(f"{name}: {_header_value(name, value)}")
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
            _qp(html) if html_qp is None else html_qp,
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
    """What a failed send means: a 5xx answer to the message is final, anything else (a 4xx,
    a lost connection, a server that cannot be reached or logged into) is worth a retry."""
    if isinstance(exc, SmtpRecipientsRefused | SmtpPartiallySent):
        codes = [r.code for r in exc.refusals]
        detail = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.refusals)
        # Partly sent: trying again would duplicate it for the recipients who have it.
        final = isinstance(exc, SmtpPartiallySent) or (
            bool(codes) and all(code >= 500 for code in codes)
        )
        return DeliveryResult(
            DeliveryStatus.PERMANENT if final else DeliveryStatus.TEMPORARY, detail
        )
    if isinstance(exc, SmtpReply):
        status = DeliveryStatus.PERMANENT if exc.code >= 500 else DeliveryStatus.TEMPORARY
        return DeliveryResult(status, f"{exc.code} {exc.message}")
    return DeliveryResult(DeliveryStatus.TEMPORARY, f"{type(exc).__name__}: {exc}".strip())


@dataclass
class _Slot:
    connection: SmtpConnection | None = None
    sent: int = field(default=0)


class SmtpTransport:
    """A pool of SMTP connections, each working through the batch's messages in turn."""

    name = "smtp"
    keeps_messages = False

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._limiter = RateLimiter(config.rate_per_second)
        self._slots: asyncio.Queue[_Slot] = asyncio.Queue()
        for _ in range(config.pool_size):
            self._slots.put_nowait(_Slot())

    async def _connect(self) -> SmtpConnection:
        config = self.config
        return await SmtpConnection.open(
            config.host,
            config.port,
            tls=config.tls,
            user=config.user,
            password=config.password,
            timeout_s=config.timeout_s,
            validate_certs=config.validate_certs,
        )

    @staticmethod
    def _drop(slot: _Slot) -> None:
        connection, slot.connection = slot.connection, None
        if connection is not None:
            # A broken connection is being thrown away: how it closes does not matter.
            with contextlib.suppress(Exception):
                connection.close()

    async def _reset(self, slot: _Slot) -> None:
        if slot.connection is None:
            return
        try:
            await slot.connection.reset()
        except Exception:
            self._drop(slot)

    async def _send_one(self, slot: _Slot, message: OutgoingMessage) -> DeliveryResult:
        data = message.raw
        for attempt in (1, 2):
            try:
                if slot.connection is None or not slot.connection.is_open:
                    self._drop(slot)
                    slot.connection = await self._connect()
                await slot.connection.send(message.sender, message.recipients, data)
                slot.sent += 1
                return SENT
            except (SmtpRecipientsRefused, SmtpPartiallySent) as exc:
                await self._reset(slot)
                return classify(exc)
            except SmtpReply as exc:
                # After a 5xx the session is sound; a 4xx may leave it in any state.
                if exc.code >= 500:
                    await self._reset(slot)
                else:
                    self._drop(slot)
                return classify(exc)
            except (SmtpError, OSError, TimeoutError) as exc:
                connection = slot.connection
                self._drop(slot)
                # A kept-open connection the server closed while idle: if the content had
                # not started to go out, the server cannot have the message, so one more try
                # on a new connection cannot send it twice.
                if (
                    attempt == 1
                    and connection is not None
                    and connection.sent
                    and not connection.data_started
                    and not isinstance(exc, SmtpConnectFailed)
                ):
                    continue
                return classify(exc)
            except Exception as exc:
                # Whatever else went wrong, the batch's other messages still go and this
                # one's outcome is recorded (as worth another try) rather than lost.
                log.exception("unexpected error sending message %s", message.key)
                self._drop(slot)
                return classify(exc)
        raise AssertionError("unreachable")

    async def deliver(self, messages: Sequence[OutgoingMessage]) -> Mapping[int, DeliveryResult]:
        results: dict[int, DeliveryResult] = {}
        waiting = deque(messages)

        async def work() -> None:
            slot = await self._slots.get()
            try:
                while waiting:
                    message = waiting.popleft()
                    await self._limiter.wait()
                    results[message.key] = await self._send_one(slot, message)
            finally:
                self._slots.put_nowait(slot)

        await asyncio.gather(*(work() for _ in range(min(self.config.pool_size, len(messages)))))
        return results

    async def aclose(self) -> None:
        slots = [self._slots.get_nowait() for _ in range(self._slots.qsize())]
        for slot in slots:
            connection, slot.connection = slot.connection, None
            if connection is not None and connection.is_open:
                with contextlib.suppress(Exception):
                    await connection.quit()
            self._slots.put_nowait(slot)
