"""Campaign imports: what each import created, updated and reused, so that it can be undone
while nothing of it has been used."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from trellis.db.base import Base, BigId, IdMixin
from trellis.db.types import JSONType, UTCDateTime


class CampaignImport(IdMixin, Base):
    __tablename__ = "campaign_imports"

    filename: Mapped[str] = mapped_column(String(255), default="")
    # The manifest's format version and the Trellis version that exported it.
    format_version: Mapped[int] = mapped_column(default=1)
    exported_by: Mapped[str] = mapped_column(String(40), default="")
    # {"created": {kind: [id, ...]}, "updated": {...}, "reused": {...}}
    summary: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (Index("ix_campaign_imports_created_at", "created_at"),)
