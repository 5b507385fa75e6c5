from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from trellis.api.deps import ActorDep, NowDep, SessionDep
from trellis.api.pagination import ListResponse, list_response, page_request
from trellis.api.params import IdPath
from trellis.api.routing import API_PREFIX
from trellis.db.pagination import PageRequest
from trellis.domains.notifications.schemas import MarkedRead, NotificationRead
from trellis.domains.notifications.service import notification_service

router = APIRouter(prefix=API_PREFIX, tags=["notifications"])


@router.get(
    "/notifications",
    response_model=ListResponse[NotificationRead],
    summary="The current user's notifications, newest first",
)
async def list_notifications(
    actor: ActorDep,
    session: SessionDep,
    page: Annotated[PageRequest, Depends(page_request)],
    unread: Annotated[bool | None, Query(description="Only unread (true) or read (false)")] = None,
) -> ListResponse[NotificationRead]:
    result = await notification_service.page(session, actor=actor, unread=unread, page=page)
    return list_response(result, NotificationRead.model_validate)


@router.post("/notifications/{notification_id}/read", response_model=MarkedRead)
async def mark_notification_read(
    notification_id: IdPath, actor: ActorDep, session: SessionDep, now: NowDep
) -> MarkedRead:
    marked = await notification_service.mark_read(
        session, actor=actor, notification_id=notification_id, now=now
    )
    return MarkedRead(marked=marked)


@router.post("/notifications/read-all", response_model=MarkedRead)
async def mark_all_notifications_read(
    actor: ActorDep, session: SessionDep, now: NowDep
) -> MarkedRead:
    marked = await notification_service.mark_read(
        session, actor=actor, notification_id=None, now=now
    )
    return MarkedRead(marked=marked)
