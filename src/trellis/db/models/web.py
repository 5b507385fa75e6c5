"""Website tracking: the visitors the tracking script identifies by a random first-party id,
and one row per page hit.

A visitor becomes a known contact when it submits a form or follows a tracked email link;
its earlier hits then get the contact's id too. No IP address or full user agent is kept:
only a device class (desktop, mobile, tablet).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from trellis.db.base import Base, BigId, IdMixin
from trellis.db.types import UTCDateTime


class WebVisitor(Base):
    """A browser, by the random id the script keeps in the site's own storage."""

    __tablename__ = "web_visitors"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Deleting a contact forgets who the visitor was, not that it visited.
    contact_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="SET NULL"), nullable=True
    )
    device: Mapped[str] = mapped_column(String(10), default="desktop")
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    identified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (Index("ix_web_visitors_contact_id", "contact_id"),)


class PageHit(IdMixin, Base):
    """One page view. ``url_hash`` is the SHA-256 of the URL (URLs are too long to index)."""

    __tablename__ = "page_hits"

    visitor_id: Mapped[str] = mapped_column(String(64))
    # Deleting a contact deletes its page hits (they are its browsing history).
    contact_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="CASCADE"), nullable=True
    )
    site: Mapped[str] = mapped_column(String(100), default="")
    url: Mapped[str] = mapped_column(Text)
    url_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(500), default="")
    referrer: Mapped[str] = mapped_column(Text, default="")
    utm_source: Mapped[str | None] = mapped_column(String(200), nullable=True)
    utm_medium: Mapped[str | None] = mapped_column(String(200), nullable=True)
    utm_campaign: Mapped[str | None] = mapped_column(String(200), nullable=True)
    utm_term: Mapped[str | None] = mapped_column(String(200), nullable=True)
    utm_content: Mapped[str | None] = mapped_column(String(200), nullable=True)
    device: Mapped[str] = mapped_column(String(10), default="desktop")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_page_hits_contact_id_created_at", "contact_id", "created_at"),
        Index("ix_page_hits_url_hash_created_at", "url_hash", "created_at"),
        Index("ix_page_hits_visitor_id", "visitor_id"),
        Index("ix_page_hits_created_at", "created_at"),
    )
