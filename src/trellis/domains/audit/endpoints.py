from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from trellis.api.deps import ActorDep, SessionDep
from trellis.api.pagination import ListResponse, list_response, page_request
from trellis.api.params import OptionalIdQuery
from trellis.api.routing import API_PREFIX
from trellis.clock import ensure_aware
from trellis.db.pagination import PageRequest
from trellis.domains.audit.repository import AuditFilter
from trellis.domains.audit.schemas import AuditEntryRead
from trellis.domains.audit.service import audit

router = APIRouter(prefix=API_PREFIX, tags=["audit"])


@router.get("/audit-log", response_model=ListResponse[AuditEntryRead])
async def list_audit_log(
    actor: ActorDep,
    session: SessionDep,
    page: Annotated[PageRequest, Depends(page_request)],
    entity_type: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z_]*$")] = None,
    entity_id: OptionalIdQuery = None,
    actor_type: Annotated[Literal["user", "token", "system"] | None, Query()] = None,
    actor_id: OptionalIdQuery = None,
    action: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z_]*$")] = None,
    since: Annotated[datetime | None, Query(description="Entries at or after this time")] = None,
    until: Annotated[datetime | None, Query(description="Entries before this time")] = None,
) -> ListResponse[AuditEntryRead]:
    filters = AuditFilter(
        entity_type=entity_type,
        entity_id=entity_id,
        actor_type=actor_type,
        actor_id=actor_id,
        action=action,
        since=ensure_aware(since) if since else None,
        until=ensure_aware(until) if until else None,
    )
    result = await audit.list_page(session, actor=actor, filters=filters, page=page)
    return list_response(result, AuditEntryRead.model_validate)
