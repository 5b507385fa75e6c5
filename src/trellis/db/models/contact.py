"""Contacts and what hangs off them: custom fields, companies, tags, stages, points, DNC, the
activity timeline. Built for millions of rows: custom field values live in one JSON column that
both dialects can filter on, tags and companies in narrow link tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from trellis.db.base import Base, BigId, IdMixin, TimestampMixin, VersionedMixin
from trellis.db.types import JSONType, UTCDateTime


class Stage(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "stages"

    # Stable across instances: the key of the export file (portability).
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid4()))
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)


class CustomField(IdMixin, TimestampMixin, VersionedMixin, Base):
    """A field defined at run time, on contacts or on companies."""

    __tablename__ = "custom_fields"

    # Stable across instances: the key of the export file (portability).
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid4()))
    object: Mapped[str] = mapped_column(String(16))  # contact | company
    alias: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20))
    group: Mapped[str] = mapped_column(String(40), default="core")
    default_value: Mapped[Any] = mapped_column(JSONType, nullable=True)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    is_identifier: Mapped[bool] = mapped_column(Boolean, default=False)
    # Whether an anonymous request (a public form post) may replace a value the contact
    # already has; when not, such a request only fills the field while it is empty.
    publicly_updatable: Mapped[bool] = mapped_column(Boolean, default=False)
    # select / multiselect choices: [{"value": "...", "label": "..."}]
    options: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (UniqueConstraint("object", "alias"),)


class Contact(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "contacts"

    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    first_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    last_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(50), nullable=True)
    mobile: Mapped[str | None] = mapped_column(String(50), nullable=True)
    position: Mapped[str | None] = mapped_column(String(200), nullable=True)
    company_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    address1: Mapped[str | None] = mapped_column(String(200), nullable=True)
    address2: Mapped[str | None] = mapped_column(String(200), nullable=True)
    city: Mapped[str | None] = mapped_column(String(100), nullable=True)
    state: Mapped[str | None] = mapped_column(String(100), nullable=True)
    zipcode: Mapped[str | None] = mapped_column(String(20), nullable=True)
    country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    locale: Mapped[str | None] = mapped_column(String(35), nullable=True)
    website: Mapped[str | None] = mapped_column(String(500), nullable=True)
    owner_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    stage_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("stages.id", ondelete="SET NULL"), nullable=True
    )
    points: Mapped[int] = mapped_column(Integer, default=0)
    utm_source: Mapped[str | None] = mapped_column(String(200), nullable=True)
    utm_medium: Mapped[str | None] = mapped_column(String(200), nullable=True)
    utm_campaign: Mapped[str | None] = mapped_column(String(200), nullable=True)
    utm_content: Mapped[str | None] = mapped_column(String(200), nullable=True)
    utm_term: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # Custom field values by alias.
    fields: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # No email and no identifying custom field: a visitor known only by a cookie.
    is_anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    last_active_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Set when a retention policy removed the personal data but kept the row for statistics;
    # such a row is no longer an anonymous visitor to clean up.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        Index("ix_contacts_email", "email", unique=True),
        Index("ix_contacts_last_name", "last_name"),
        Index("ix_contacts_owner_id", "owner_id"),
        Index("ix_contacts_stage_id", "stage_id"),
        Index("ix_contacts_updated_at", "updated_at"),
        Index("ix_contacts_last_active_at", "last_active_at"),
    )


class ContactMerge(Base):
    """Where a merged-away contact went, so that old ids and links still resolve."""

    __tablename__ = "contact_merges"

    loser_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    winner_id: Mapped[int] = mapped_column(BigId, ForeignKey("contacts.id", ondelete="CASCADE"))
    merged_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_contact_merges_winner_id", "winner_id"),)


class Company(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "companies"

    name: Mapped[str] = mapped_column(String(200))
    domain: Mapped[str | None] = mapped_column(String(253), nullable=True)
    fields: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    owner_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )

    __table_args__ = (
        Index("ix_companies_name", "name"),
        Index("ix_companies_domain", "domain"),
        Index("ix_companies_owner_id", "owner_id"),
    )


class ContactCompany(Base):
    __tablename__ = "contact_companies"

    contact_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    company_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True
    )
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_contact_companies_company_id", "company_id"),)


class Tag(IdMixin, Base):
    __tablename__ = "tags"

    name: Mapped[str] = mapped_column(String(100))
    # Lower-cased name: tags are unique without regard to case.
    key: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ContactTag(Base):
    __tablename__ = "contact_tags"

    # No foreign key: written a million rows at a time; deletions clean up (ADR 0009).
    contact_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tag_id: Mapped[int] = mapped_column(BigId, primary_key=True)

    __table_args__ = (Index("ix_contact_tags_tag_id", "tag_id"),)


class DoNotContact(Base):
    """A channel a contact must not be reached on, with why and since when."""

    __tablename__ = "contact_dnc"

    contact_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    reason: Mapped[str] = mapped_column(String(20))  # unsubscribed | bounced | complaint | manual
    comment: Mapped[str] = mapped_column(Text, default="")
    source_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    source_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_contact_dnc_channel", "channel"),)


class PointsChange(IdMixin, Base):
    __tablename__ = "points_history"

    # No foreign key: written a million rows at a time; deletions clean up (ADR 0009).
    contact_id: Mapped[int] = mapped_column(BigId)
    delta: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(255), default="")
    source_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    source_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_points_history_contact_id_id", "contact_id", "id"),)


class ContactActivity(IdMixin, Base):
    """The contact's timeline: every domain appends what happened to the contact here."""

    __tablename__ = "contact_activity"

    contact_id: Mapped[int] = mapped_column(BigId, ForeignKey("contacts.id", ondelete="CASCADE"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(40))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    source_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    source_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    actor_name: Mapped[str | None] = mapped_column(String(320), nullable=True)

    __table_args__ = (
        Index("ix_contact_activity_contact_id_occurred_at", "contact_id", "occurred_at"),
    )


class ContactImport(IdMixin, Base):
    """A CSV import: the uploaded file, its options, progress and outcome."""

    __tablename__ = "contact_imports"

    status: Mapped[str] = mapped_column(String(16))  # queued | running | done | failed
    filename: Mapped[str] = mapped_column(String(255))
    path: Mapped[str] = mapped_column(String(1000))
    size_bytes: Mapped[int] = mapped_column(BigId)
    # Mapping, delimiter, encoding, tags / segment / owner to apply.
    options: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    created_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_count: Mapped[int] = mapped_column(Integer, default=0)
    unchanged_count: Mapped[int] = mapped_column(Integer, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    bytes_read: Mapped[int] = mapped_column(BigId, default=0)
    # The first errors, for the report; the full list is in a CSV next to the upload.
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    message: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
