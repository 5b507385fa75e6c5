from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    occurred_at: datetime
    actor_type: str
    actor_id: int | None
    actor_name: str
    action: str
    entity_type: str
    entity_id: int | None
    entity_name: str
    changes: dict[str, Any]
    ip: str | None
    user_agent: str | None
