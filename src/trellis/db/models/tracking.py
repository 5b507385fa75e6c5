"""Tracking: what happened to each message after it went (opens, clicks, unsubscribe, delivery,
bounces, complaints), the log of hits behind the contact's timeline, and the aggregates the
statistics read.

``email_send_tracking`` is one row per send that anything happened to, kept apart from
``email_sends`` (the delivery queue) so that a burst of opens never contends with delivery.
Counters are aggregates written by the hit buffer in one statement per batch; the statistics
never count the hit log.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from trellis.db.base import Base, BigId, IdMixin
from trellis.db.types import UTCDateTime


class EmailSendTracking(Base):
    """Per send: opens and clicks (first, last, how many), and what the recipient or the
    receiving server said (unsubscribed, delivered, bounced, complained)."""

    __tablename__ = "email_send_tracking"

    send_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("email_sends.id", ondelete="CASCADE"), primary_key=True
    )
    email_id: Mapped[int] = mapped_column(BigId, ForeignKey("emails.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="CASCADE"), nullable=True
    )
    opens: Mapped[int] = mapped_column(Integer, default=0)
    first_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    clicks: Mapped[int] = mapped_column(Integer, default=0)
    first_clicked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_clicked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    bounce_type: Mapped[str | None] = mapped_column(String(8), nullable=True)  # hard | soft
    bounce_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    complained_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        Index("ix_email_send_tracking_email_id", "email_id"),
        # Segment filters "opened / clicked email X" look a contact's sends up.
        Index("ix_email_send_tracking_contact_id_email_id", "contact_id", "email_id"),
    )


class EmailLink(IdMixin, Base):
    """A link of an email as it went out (UTM tags included), with its click counters."""

    __tablename__ = "email_links"

    email_id: Mapped[int] = mapped_column(BigId, ForeignKey("emails.id", ondelete="CASCADE"))
    # SHA-256 of the URL: URLs are too long to index on every database.
    url_key: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(Text)
    clicks: Mapped[int] = mapped_column(Integer, default=0)
    unique_clicks: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("uq_email_links_email_id", "email_id", "url_key", unique=True),)


class EmailSendLink(Base):
    """Which links of a message its recipient clicked: the first click of a link is unique."""

    __tablename__ = "email_send_links"

    send_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("email_sends.id", ondelete="CASCADE"), primary_key=True
    )
    link_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("email_links.id", ondelete="CASCADE"), primary_key=True
    )
    first_clicked_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_email_send_links_link_id", "link_id"),)


class EmailStats(Base):
    """Per email: the counters the statistics read (sends are counted from the send log)."""

    __tablename__ = "email_stats"

    email_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("emails.id", ondelete="CASCADE"), primary_key=True
    )
    opens: Mapped[int] = mapped_column(Integer, default=0)
    unique_opens: Mapped[int] = mapped_column(Integer, default=0)
    clicks: Mapped[int] = mapped_column(Integer, default=0)
    unique_clicks: Mapped[int] = mapped_column(Integer, default=0)
    unsubscribes: Mapped[int] = mapped_column(Integer, default=0)
    delivered: Mapped[int] = mapped_column(Integer, default=0)
    bounces: Mapped[int] = mapped_column(Integer, default=0)
    hard_bounces: Mapped[int] = mapped_column(Integer, default=0)
    complaints: Mapped[int] = mapped_column(Integer, default=0)


class TrackingHit(IdMixin, Base):
    """One open or click, for the contact's timeline. No IP address or user agent is kept."""

    __tablename__ = "tracking_hits"

    send_id: Mapped[int] = mapped_column(BigId, ForeignKey("email_sends.id", ondelete="CASCADE"))
    email_id: Mapped[int] = mapped_column(BigId)
    contact_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    kind: Mapped[str] = mapped_column(String(8))  # open | click
    link_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_tracking_hits_contact_id_occurred_at", "contact_id", "occurred_at"),
        Index("ix_tracking_hits_send_id", "send_id"),
    )


class EmailCategory(Base):
    """The subscription category of an email (newsletter, offers, ...), which a recipient can
    opt out of in the preference centre. Emails without one are in no category."""

    __tablename__ = "email_categories"

    email_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("emails.id", ondelete="CASCADE"), primary_key=True
    )
    category: Mapped[str] = mapped_column(String(60))

    __table_args__ = (Index("ix_email_categories_category", "category"),)


class ContactCategoryOptOut(Base):
    """A category of marketing email a contact chose not to receive."""

    __tablename__ = "contact_category_opt_outs"

    contact_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    category: Mapped[str] = mapped_column(String(60), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
