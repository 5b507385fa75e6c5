"""Emails: the content, one row per message sent (or refused), the outbox of the embedded
transport, and the per-contact frequency override.

``email_sends`` is both the send log and the delivery queue: a row is written (queued) in the
transaction that runs the campaign step or the broadcast, and the dispatcher claims queued rows,
delivers them and records the outcome. Its unique key (step, contact, pass) makes a retried
step find the send it already queued instead of queueing a second one.
"""

from __future__ import annotations

from datetime import datetime
from uuid import uuid4

from sqlalchemy import Boolean, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from trellis.db.base import Base, BigId, IdMixin, TimestampMixin, VersionedMixin
from trellis.db.types import JSONType, UTCDateTime


class Email(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "emails"

    # Stable across instances: the key of the export file (portability).
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid4()))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="template")  # template | broadcast
    subject: Mapped[str] = mapped_column(String(998))
    preheader: Mapped[str] = mapped_column(String(500), default="")
    from_name: Mapped[str] = mapped_column(String(200), default="")
    from_address: Mapped[str] = mapped_column(String(320), default="")
    reply_to: Mapped[str] = mapped_column(String(320), default="")
    # [{"name": "X-Campaign", "value": "spring"}]
    headers: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list)
    body_format: Mapped[str] = mapped_column(String(8), default="mjml")  # mjml | html
    body: Mapped[str] = mapped_column(Text, default="")
    # NULL: the plain-text part is generated from the HTML; text: the editor's own version.
    text_body: Mapped[str | None] = mapped_column(Text, nullable=True)
    language: Mapped[str] = mapped_column(String(35), default="en")
    # {"source": .., "medium": .., "campaign": .., "content": ..}; empty values are left out.
    utm: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    is_published: Mapped[bool] = mapped_column(Boolean, default=False)
    # Bumped when anything that changes the rendered message changes (not the name, not the
    # published flag): compiled templates are cached per content version.
    content_version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )

    __table_args__ = (Index("ix_emails_name", "name"),)


class EmailVersion(Base):
    """The content of an email as it was before an edit replaced it: the web view of a message
    shows what its recipient got, not what the email says today."""

    __tablename__ = "email_versions"

    email_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("emails.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(String(998))
    preheader: Mapped[str] = mapped_column(String(500), default="")
    body_format: Mapped[str] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(Text)
    text_body: Mapped[str | None] = mapped_column(Text, nullable=True)
    language: Mapped[str] = mapped_column(String(35))
    utm: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EmailSend(IdMixin, Base):
    """One message to one recipient: queued, then sent, failed or skipped (with the reason)."""

    __tablename__ = "email_sends"

    email_id: Mapped[int] = mapped_column(BigId, ForeignKey("emails.id", ondelete="CASCADE"))
    email_version: Mapped[int] = mapped_column(Integer)
    # The contact the message is to (recipient "contact") or about (recipient "user").
    contact_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="CASCADE"), nullable=True
    )
    recipient: Mapped[str] = mapped_column(String(8), default="contact")  # contact | user
    to_address: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(16))  # marketing | transactional
    # Where it came from: a campaign step (campaign, event, pass), a broadcast, a test send.
    source: Mapped[str] = mapped_column(String(16))  # campaign | broadcast | test | notify
    campaign_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    event_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    rotation: Mapped[int | None] = mapped_column(Integer, nullable=True)
    broadcast_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    status: Mapped[str] = mapped_column(String(8))  # queued | sending | sent | failed | skipped
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # What the frequency cap does with a marketing message over the limit: defer | skip.
    cap_action: Mapped[str | None] = mapped_column(String(8), nullable=True)
    message_id: Mapped[str] = mapped_column(String(250))
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    # Queued: when it may go (now, a retry's backoff, a deferral). Sending: the lease's end.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Sending: the claim (process and batch) holding the lease; only it may record the outcome.
    claim_token: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        # A campaign step queues one message per contact and pass, however often it retries.
        Index("uq_email_sends_event_id", "event_id", "contact_id", "rotation", unique=True),
        Index("ix_email_sends_status_due_at", "status", "due_at"),
        Index("ix_email_sends_email_id_contact_id", "email_id", "contact_id"),
        Index("ix_email_sends_contact_id_created_at", "contact_id", "created_at"),
        Index("ix_email_sends_message_id", "message_id"),
    )


class OutboxMessage(IdMixin, Base):
    """A message the outbox transport kept instead of delivering: exactly what would have gone
    out, as raw RFC 5322 text."""

    __tablename__ = "email_outbox"

    send_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("email_sends.id", ondelete="SET NULL"), nullable=True
    )
    message_id: Mapped[str] = mapped_column(String(250))
    sender: Mapped[str] = mapped_column(String(320))
    recipients: Mapped[list[str]] = mapped_column(JSONType, default=list)
    subject: Mapped[str] = mapped_column(Text, default="")
    raw: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    # One kept message per send: a send delivered twice cannot be recorded twice.
    __table_args__ = (Index("uq_email_outbox_send_id", "send_id", unique=True),)


class ContactEmailSettings(Base):
    """A contact's own limit on marketing emails, overriding the instance default."""

    __tablename__ = "contact_email_settings"

    contact_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    # NULL limit: the instance default applies; 0: no marketing email at all.
    frequency_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    frequency_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
