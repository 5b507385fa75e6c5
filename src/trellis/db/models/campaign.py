"""Campaigns: the graph, who is in it, and the journal of every step.

The journal (``campaign_event_log``) is the largest table a deployment has, so its rows are
narrow: a composite primary key instead of a surrogate id, statuses as small integers, and a
detail column that stays NULL unless a step has something to say.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from trellis.db.base import Base, BigId, IdMixin, TimestampMixin, VersionedMixin
from trellis.db.types import JSONType, NullableJSON, UTCDateTime


class Campaign(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "campaigns"

    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    is_published: Mapped[bool] = mapped_column(Boolean, default=False)
    publish_up: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    publish_down: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    allow_restart: Mapped[bool] = mapped_column(Boolean, default=False)
    # count_all_time | restart_on_publish | count_only_while_published
    reactivation: Mapped[str] = mapped_column(String(32), default="count_all_time")
    exit_on_source_leave: Mapped[bool] = mapped_column(Boolean, default=True)
    default_timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Layout only: {"nodes": {event uuid or "source": {"x": .., "y": ..}}}
    canvas: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    last_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    paused_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class CampaignPublishPeriod(IdMixin, Base):
    """When a campaign was live, for the reactivation behaviours."""

    __tablename__ = "campaign_publish_periods"

    campaign_id: Mapped[int] = mapped_column(BigId, ForeignKey("campaigns.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (Index("ix_campaign_publish_periods_campaign_id", "campaign_id"),)


class CampaignSource(Base):
    __tablename__ = "campaign_sources"

    campaign_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # segment | form
    source_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # live: members keep entering as they join; locked: only members at locked_at.
    audience: Mapped[str] = mapped_column(String(8), default="live")
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The segment membership log id up to which joins and leaves were applied.
    cursor: Mapped[int] = mapped_column(BigId, default=0)
    # While the first pass brings in the segment's current members: the last contact id done.
    backfill_after: Mapped[int | None] = mapped_column(BigId, nullable=True)

    __table_args__ = (Index("ix_campaign_sources_kind_source_id", "kind", "source_id"),)


class CampaignEvent(IdMixin, Base):
    __tablename__ = "campaign_events"

    campaign_id: Mapped[int] = mapped_column(BigId, ForeignKey("campaigns.id", ondelete="CASCADE"))
    uuid: Mapped[str] = mapped_column(String(36))
    name: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16))
    type: Mapped[str] = mapped_column(String(80))
    config: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    parent_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("campaign_events.id", ondelete="SET NULL"), nullable=True
    )
    path: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # {"mode": ..., "amount": .., "unit": .., "at_hour": "09:00", ...}
    timing: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Contacts waiting at a deleted step continue here.
    redirect_to_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("campaign_events.id", ondelete="SET NULL"), nullable=True
    )

    __table_args__ = (
        UniqueConstraint("campaign_id", "uuid"),
        Index("ix_campaign_events_type", "type"),
    )


class CampaignMember(Base):
    __tablename__ = "campaign_members"

    # No foreign key: written a million rows at a time; deletions clean up (ADR 0009).
    campaign_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contact_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    rotation: Mapped[int] = mapped_column(Integer, default=1)
    # active | exited (left the source, or a campaign action) | removed (by a person)
    status: Mapped[str] = mapped_column(String(8), default="active")
    manually_added: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime())
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        Index("ix_campaign_members_contact_id", "contact_id"),
        # The campaign page counts active members: an index-only count, not a walk of the rows.
        Index("ix_campaign_members_campaign_id_status", "campaign_id", "status"),
    )


class EventLog(Base):
    """One row per contact, event and rotation: the step's state, and its due time while it
    waits.

    The key leads with the contact, so a contact's journey needs no other index; columns are
    ordered widest first so that PostgreSQL packs rows without padding; only open steps are in
    the due-time index.
    """

    __tablename__ = "campaign_event_log"

    # No foreign key: written a million rows at a time; deletions clean up (ADR 0009).
    contact_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    rotation: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(BigId)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # When the step was reached (the base of its timing) and when it finished.
    reached_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    status: Mapped[int] = mapped_column(SmallInteger)
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    # Why: a warning, a failure, a skipped reason, the branch taken. NULL for plain success.
    detail: Mapped[dict[str, Any] | None] = mapped_column(NullableJSON, nullable=True)
    # Who holds a running step (worker and claim, ADR 0016): finishing it checks the token, so a
    # worker whose lease was taken over loses cleanly instead of finishing someone else's step.
    claim: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # When the outside call of a running step was last started: set in its own transaction
    # before the call, so the steps a crash may have sent are known.
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        Index(
            "ix_campaign_event_log_open_status_due_at",
            "status",
            "due_at",
            postgresql_where=text("status IN (1, 2, 3)"),
            sqlite_where=text("status IN (1, 2, 3)"),
        ),
        Index("ix_campaign_event_log_event_id_status", "event_id", "status"),
    )


class CampaignLease(Base):
    """The one dispatcher of a campaign at a time: whoever holds an unexpired row runs its
    intake and schedule; everyone else leaves the campaign alone until the lease runs out."""

    __tablename__ = "campaign_leases"

    campaign_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    until: Mapped[datetime] = mapped_column(UTCDateTime())


class CampaignIntakeRange(Base):
    """A slice of a segment's existing members that one worker takes into a campaign.

    The campaign's dispatcher cuts the intake into ranges of contact ids; any worker claims
    one (``claim`` until ``until``), adds its members and marks it done in the same
    transaction, so a range is taken in exactly once. A claim whose worker died runs out and
    the range is taken again."""

    __tablename__ = "campaign_intake_ranges"

    campaign_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    after_contact: Mapped[int] = mapped_column(BigId, primary_key=True)
    upto_contact: Mapped[int] = mapped_column(BigId)
    claim: Mapped[str | None] = mapped_column(String(64), nullable=True)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    done: Mapped[bool] = mapped_column(Boolean, default=False)


class EventStats(Base):
    """Per-event counters, kept up to date with every batch instead of counted from the log."""

    __tablename__ = "campaign_event_stats"

    event_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("campaign_events.id", ondelete="CASCADE"), primary_key=True
    )
    campaign_id: Mapped[int] = mapped_column(BigId)
    scheduled: Mapped[int] = mapped_column(Integer, default=0)
    waiting: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    warned: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    dead: Mapped[int] = mapped_column(Integer, default=0)
    yes: Mapped[int] = mapped_column(Integer, default=0)
    no: Mapped[int] = mapped_column(Integer, default=0)
    cancelled: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_campaign_event_stats_campaign_id", "campaign_id"),)


class ContactEvent(IdMixin, Base):
    """Something a contact did, sent through the track API (``POST /api/v2/events``)."""

    __tablename__ = "contact_events"

    contact_id: Mapped[int] = mapped_column(BigId, ForeignKey("contacts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    properties: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_contact_events_contact_id_occurred_at", "contact_id", "occurred_at"),
    )
