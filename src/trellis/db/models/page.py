"""Landing pages: a GrapesJS-built body (HTML and CSS, stored as written) served at
``/p/<slug>``.

``content_version`` is bumped when anything that changes the rendered page changes (the body,
the CSS, the title, the meta description, the language): the public ETag is derived from it.
"""

from __future__ import annotations

from uuid import uuid4

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from trellis.db.base import Base, BigId, IdMixin, TimestampMixin, VersionedMixin


class Page(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "pages"

    # Stable across instances: the key of the export file (portability).
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid4()))
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    slug: Mapped[str] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(35), default="en")
    meta_description: Mapped[str] = mapped_column(String(500), default="")
    html: Mapped[str] = mapped_column(Text, default="")
    css: Mapped[str] = mapped_column(Text, default="")
    is_published: Mapped[bool] = mapped_column(Boolean, default=False)
    content_version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )

    __table_args__ = (
        Index("ix_pages_slug", "slug", unique=True),
        Index("ix_pages_name", "name"),
    )
