"""Forms: the form (its fields, submit actions and success behaviour kept as JSON documents in
the row: they are read and written whole) and one row per accepted submission.

A submission keeps the values as posted (after validation), the consent text the visitor saw,
and an anonymised network address (IPv4 /24, IPv6 /48): enough to spot abuse, not to identify
a person.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from trellis.db.base import Base, BigId, IdMixin, TimestampMixin, VersionedMixin
from trellis.db.types import JSONType, UTCDateTime


class Form(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "forms"

    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # The URL slug of the hosted page and the embed script: /f/<alias>.
    alias: Mapped[str] = mapped_column(String(60))
    identify_by: Mapped[str] = mapped_column(String(100), default="email")
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    # {"kind": "message" | "redirect", "message": .., "redirect_url": ..}
    success: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    allowed_origins: Mapped[list[str]] = mapped_column(JSONType, default=list)
    is_published: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )

    __table_args__ = (
        Index("ix_forms_alias", "alias", unique=True),
        Index("ix_forms_name", "name"),
    )


class FormSubmission(IdMixin, Base):
    __tablename__ = "form_submissions"

    form_id: Mapped[int] = mapped_column(BigId, ForeignKey("forms.id", ondelete="CASCADE"))
    # Deleting a contact deletes its submissions (they hold its personal data).
    contact_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="CASCADE"), nullable=True
    )
    # {input name: value}; checkbox groups hold a list of the chosen option values.
    values: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    consent_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Anonymised: the IPv4 /24 or IPv6 /48 network, e.g. "203.0.113.0".
    ip: Mapped[str | None] = mapped_column(String(45), nullable=True)
    user_agent: Mapped[str] = mapped_column(String(500), default="")
    page_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_form_submissions_form_id_id", "form_id", "id"),
        Index("ix_form_submissions_contact_id_id", "contact_id", "id"),
    )
