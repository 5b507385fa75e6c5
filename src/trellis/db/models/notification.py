from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from trellis.db.base import Base, BigId, IdMixin
from trellis.db.types import UTCDateTime


class Notification(IdMixin, Base):
    """Something a user should know about (a campaign paused by its failure guard, say),
    shown in the UI's notification panel until read."""

    __tablename__ = "notifications"

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    # An app path (``/campaigns/7``), never an outside URL.
    link: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (Index("ix_notifications_user_id_read_at_id", "user_id", "read_at", "id"),)
