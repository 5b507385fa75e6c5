"""Reading what receiving servers send back: delivery status notifications (RFC 3464,
``multipart/report; report-type=delivery-status``) and complaint feedback reports (RFC 5965,
``report-type=feedback-report``).

A report names the message it is about by the original Message-ID (in the returned message
or its headers) and, for Trellis' own mail, by the ``X-Trellis-Email`` header; the recipient
comes from ``Final-Recipient`` (or ``Original-Rcpt-To`` in a complaint). A permanent failure
(status 5.x.x) is a hard bounce, a temporary one (4.x.x) a soft bounce; ``delayed`` reports
are not final and are ignored.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from typing import Literal

MAX_REPORT_BYTES = 5 * 1024 * 1024
MAX_REASON = 1000
_STATUS = re.compile(r"^\s*([245])\.\d{1,3}\.\d{1,3}")
_ADDRESS = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+$")

EventType = Literal["bounce", "complaint", "delivered"]


@dataclass(frozen=True)
class MailEvent:
    """What a report says about one recipient of one message."""

    type: EventType
    message_id: str | None
    email: str | None
    bounce_type: Literal["hard", "soft"] | None = None
    reason: str = ""
    occurred_at: datetime | None = None


def _address(value: str | None) -> str | None:
    """``rfc822; Ada@Example.com`` -> ``ada@example.com``."""
    if not value:
        return None
    _, _, address = str(value).rpartition(";")
    address = email.utils.parseaddr(address.strip())[1].strip().lower()
    return address if _ADDRESS.match(address) else None


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _clean(value: str | None) -> str:
    return " ".join(str(value or "").split())[:MAX_REASON]


def _original_headers(report: Message) -> Message | None:
    """The returned message, or just its headers."""
    for part in report.walk():
        kind = part.get_content_type()
        if kind in ("message/rfc822", "message/global"):
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
        if kind in ("text/rfc822-headers", "text/global-headers"):
            raw = part.get_payload(decode=True)
            if isinstance(raw, bytes):
                return email.message_from_bytes(raw, policy=email.policy.compat32)
    return None


def _message_id(original: Message | None) -> str | None:
    if original is None:
        return None
    value = original.get("Message-ID") or original.get("Message-Id")
    return _clean(value) or None


def _status_blocks(part: Message) -> list[Message]:
    """The field blocks of a message/delivery-status part: per message, then per recipient."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    # Some senders encode the part as text; parse its blocks by hand.
    raw = part.get_payload(decode=True)
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(payload or "")
    blocks = re.split(r"\r?\n\s*\r?\n", text.strip())
    return [email.message_from_string(block, policy=email.policy.compat32) for block in blocks]


def _delivery_status(report: Message, original: Message | None) -> list[MailEvent]:
    events: list[MailEvent] = []
    message_id = _message_id(original)
    for part in report.walk():
        if part.get_content_type() not in (
            "message/delivery-status",
            "message/global-delivery-status",
        ):
            continue
        blocks = _status_blocks(part)
        if not blocks:
            continue
        per_message, recipients = blocks[0], blocks[1:]
        arrival = _date(per_message.get("Arrival-Date"))
        for fields in recipients:
            action = _clean(fields.get("Action")).lower()
            status = _clean(fields.get("Status"))
            recipient = _address(fields.get("Final-Recipient") or fields.get("Original-Recipient"))
            diagnostic = _clean(fields.get("Diagnostic-Code"))
            reason = diagnostic.partition(";")[2].strip() if ";" in diagnostic else diagnostic
            reason = reason or status
            when = _date(fields.get("Last-Attempt-Date")) or arrival
            if action == "failed":
                code = _STATUS.match(status)
                hard = code is None or code.group(1) == "5"
                events.append(
                    MailEvent(
                        "bounce",
                        message_id,
                        recipient,
                        "hard" if hard else "soft",
                        f"{status} {reason}".strip() if status and status not in reason else reason,
                        when,
                    )
                )
            elif action in ("delivered", "relayed", "expanded"):
                events.append(MailEvent("delivered", message_id, recipient, None, "", when))
    return events


def _feedback(report: Message, original: Message | None) -> list[MailEvent]:
    for part in report.walk():
        if part.get_content_type() != "message/feedback-report":
            continue
        blocks = _status_blocks(part)
        if not blocks:
            continue
        fields = blocks[0]
        kind = _clean(fields.get("Feedback-Type")).lower() or "abuse"
        recipient = _address(fields.get("Original-Rcpt-To"))
        if recipient is None and original is not None:
            recipient = _address(original.get("To"))
        return [
            MailEvent(
                "complaint",
                _message_id(original),
                recipient,
                None,
                f"Feedback report: {kind}",
                _date(fields.get("Arrival-Date")) or _date(fields.get("Received-Date")),
            )
        ]
    return []


def parse_report(raw: bytes) -> list[MailEvent]:
    """The events in a report; none for anything that is not a report (a reply, spam)."""
    if len(raw) > MAX_REPORT_BYTES:
        return []
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    if message.get_content_type() != "multipart/report":
        return []
    report_type = (message.get_param("report-type") or "").__str__().lower()
    original = _original_headers(message)
    if report_type == "feedback-report":
        return _feedback(message, original)
    return _delivery_status(message, original)
