"""Segments: saved filters, their members, and the log of joins and leaves that campaigns
consume."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from trellis.db.base import Base, BigId, IdMixin, TimestampMixin, VersionedMixin
from trellis.db.types import JSONType, UTCDateTime


class Segment(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "segments"

    # Stable across instances: the key of the export file (portability).
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid4()))
    name: Mapped[str] = mapped_column(String(200))
    alias: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    is_published: Mapped[bool] = mapped_column(Boolean, default=True)
    # {"match": "all"|"any", "conditions": [condition or group, ...]}
    filters: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    last_built_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SegmentMember(Base):
    """One row per contact a segment has ever held; ``manually_removed`` rows are not members
    and keep a person's removal from being undone by the next rebuild."""

    __tablename__ = "segment_members"

    # No foreign key: written a million rows at a time; deletions clean up (ADR 0009).
    segment_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contact_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    manually_added: Mapped[bool] = mapped_column(Boolean, default=False)
    manually_removed: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_segment_members_contact_id", "contact_id"),)


class SegmentMembershipChange(IdMixin, Base):
    """Each join and leave, in order: what campaigns and the timeline read."""

    __tablename__ = "segment_membership_log"

    # No foreign key: written a million rows at a time; deletions clean up (ADR 0009).
    segment_id: Mapped[int] = mapped_column(BigId)
    contact_id: Mapped[int] = mapped_column(BigId)
    change: Mapped[str] = mapped_column(String(8))  # joined | left
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_segment_membership_log_segment_id_id", "segment_id", "id"),
        Index("ix_segment_membership_log_contact_id_id", "contact_id", "id"),
    )
