"""Segment broadcasts: one broadcast-kind email sent to the members of segments.

``broadcast_recipients`` is the audience, one row per contact and broadcast (its primary key
is the rule that a contact gets a broadcast at most once, ever). A row without ``send_id`` (nor
``skip_reason``) is waiting to be queued; once queued it points at its ``email_sends`` row,
whose status (queued, sending, sent, failed, skipped) is the recipient's. A contact who already
received the email gets ``skip_reason`` and no send.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from trellis.db.base import Base, BigId, IdMixin, TimestampMixin, VersionedMixin
from trellis.db.types import UTCDateTime


class Broadcast(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "broadcasts"

    name: Mapped[str] = mapped_column(String(200))
    email_id: Mapped[int] = mapped_column(BigId, ForeignKey("emails.id", ondelete="CASCADE"))
    # locked: the members at the start; live: also those who join until ``stop_at``.
    audience_mode: Mapped[str] = mapped_column(String(8), default="locked")
    # What the frequency cap does with a contact over the limit: skip | defer.
    over_cap: Mapped[str] = mapped_column(String(8), default="skip")
    # draft | scheduled | sending | sent | cancelled
    status: Mapped[str] = mapped_column(String(10), default="draft")
    # NULL while a draft means "as soon as it is scheduled"; scheduling fills it in.
    start_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    stop_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )

    __table_args__ = (Index("ix_broadcasts_status_start_at", "status", "start_at"),)


class BroadcastSegment(Base):
    """A segment whose members are included in (or excluded from) a broadcast's audience."""

    __tablename__ = "broadcast_segments"

    broadcast_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("broadcasts.id", ondelete="CASCADE"), primary_key=True
    )
    segment_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True
    )
    mode: Mapped[str] = mapped_column(String(8), default="include")  # include | exclude

    __table_args__ = (Index("ix_broadcast_segments_segment_id", "segment_id"),)


class BroadcastRecipient(Base):
    """One contact of a broadcast's audience, and its send once queued."""

    __tablename__ = "broadcast_recipients"

    broadcast_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("broadcasts.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # No foreign key on purpose: a send that disappears must not make the contact pending again.
    send_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    # Set instead of a send when the contact already received the broadcast's email.
    skip_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)

    __table_args__ = (
        Index("ix_broadcast_recipients_broadcast_id_send_id", "broadcast_id", "send_id"),
        Index("ix_broadcast_recipients_contact_id", "contact_id"),
    )
