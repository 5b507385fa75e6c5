from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from trellis.db.base import Base, BigId, IdMixin
from trellis.db.types import JSONType, UTCDateTime


class AuditEntry(IdMixin, Base):
    """Append-only record of a write: who, what, to which entity, field by field."""

    __tablename__ = "audit_log"

    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_type: Mapped[str] = mapped_column(String(16))  # user | token | system
    actor_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    actor_name: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(40))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    entity_name: Mapped[str] = mapped_column(String(320), default="")
    changes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(512), nullable=True)

    __table_args__ = (
        Index("ix_audit_log_entity_type_entity_id_id", "entity_type", "entity_id", "id"),
        Index("ix_audit_log_actor_type_actor_id_id", "actor_type", "actor_id", "id"),
        Index("ix_audit_log_occurred_at", "occurred_at"),
    )
