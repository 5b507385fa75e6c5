"""The privacy lifecycle: retention policy overrides, the record of every clean-up run, the
suppression list of erased people and consent records (ADR 0018)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from trellis.db.base import Base, BigId, IdMixin
from trellis.db.types import JSONType, UTCDateTime


class RetentionPolicySetting(Base):
    """An administrator's override of one retention policy's documented default."""

    __tablename__ = "retention_policies"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    period: Mapped[int] = mapped_column(Integer)
    # Only for policies that offer a choice (inactive contacts: delete | anonymise).
    mode: Mapped[str | None] = mapped_column(String(16), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CleanupRun(IdMixin, Base):
    """One policy applied once (or counted, in a dry run): what, how many, how long."""

    __tablename__ = "cleanup_runs"

    policy: Mapped[str] = mapped_column(String(40))
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    trigger: Mapped[str] = mapped_column(String(16))  # schedule | api | cli
    status: Mapped[str] = mapped_column(String(8))  # running | done | failed
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cutoff: Mapped[datetime] = mapped_column(UTCDateTime())
    rows: Mapped[int] = mapped_column(BigId, default=0)
    # Rows per table: {"page_hits": 1200, "tracking_hits": 40}.
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (Index("ix_cleanup_runs_policy_id", "policy", "id"),)


class Suppression(Base):
    """Someone erased on request, by a keyed hash of their email address: the address itself
    is not kept, yet a later import, form or API upsert of it is recognised."""

    __tablename__ = "privacy_suppressions"

    email_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Consent(IdMixin, Base):
    """One consent given or withdrawn: the purpose, the exact wording shown (and its version),
    where it came from, when, and from which network address (subject to the IP policy).

    Append-only: a contact's current consent for a purpose is its latest row."""

    __tablename__ = "consents"

    contact_id: Mapped[int] = mapped_column(BigId, ForeignKey("contacts.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(64))
    granted: Mapped[bool] = mapped_column(Boolean)
    wording: Mapped[str] = mapped_column(Text, default="")
    wording_version: Mapped[str] = mapped_column(String(40), default="")
    source: Mapped[str] = mapped_column(String(20))  # form | api | import | preferences | manual
    source_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    ip: Mapped[str | None] = mapped_column(String(45), nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_consents_contact_id_purpose_id", "contact_id", "purpose", "id"),
        Index("ix_consents_purpose", "purpose"),
        Index("ix_consents_occurred_at", "occurred_at"),
    )
