"""Assets: files offered for download, and one row per download.

The file lives under ``<data dir>/assets/<storage key>``; the key is a random UUID, never
anything the uploader chose. The original file name is kept only for the
``Content-Disposition`` header. A download keeps the contact when it is known (a signed link)
and an anonymised network address (IPv4 /24, IPv6 /48).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from trellis.db.base import Base, BigId, IdMixin, TimestampMixin, VersionedMixin
from trellis.db.types import UTCDateTime


class Asset(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "assets"

    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    slug: Mapped[str | None] = mapped_column(String(100), nullable=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    filename: Mapped[str] = mapped_column(String(255))
    storage_key: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(100))
    extension: Mapped[str] = mapped_column(String(10))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    is_published: Mapped[bool] = mapped_column(Boolean, default=False)
    # A form to fill in before the download (the link shows the form first).
    gate_form_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("forms.id", ondelete="SET NULL"), nullable=True
    )
    created_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )

    __table_args__ = (
        Index("ix_assets_slug", "slug", unique=True),
        Index("ix_assets_name", "name"),
    )


class AssetDownload(IdMixin, Base):
    __tablename__ = "asset_downloads"

    asset_id: Mapped[int] = mapped_column(BigId, ForeignKey("assets.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="CASCADE"), nullable=True
    )
    ip: Mapped[str | None] = mapped_column(String(45), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_asset_downloads_asset_id_id", "asset_id", "id"),
        Index("ix_asset_downloads_contact_id_created_at", "contact_id", "created_at"),
    )
