from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from trellis.api.deps import ActorDep, IfMatchDep, NowDep, SessionDep, set_etag
from trellis.api.pagination import ListResponse, list_response, page_request
from trellis.api.params import IdPath, OptionalIdQuery, SearchQuery
from trellis.api.routing import API_PREFIX
from trellis.db.pagination import PageRequest
from trellis.domains.broadcasts import tasks as _tasks  # noqa: F401  (registers the job)
from trellis.domains.broadcasts.schemas import (
    BroadcastCreate,
    BroadcastRead,
    BroadcastStatus,
    BroadcastUpdate,
    RecipientRead,
    RecipientStatus,
)
from trellis.domains.broadcasts.service import broadcast_service

router = APIRouter(prefix=API_PREFIX, tags=["broadcasts"])
PageDep = Annotated[PageRequest, Depends(page_request)]


@router.get("/broadcasts", response_model=ListResponse[BroadcastRead])
async def list_broadcasts(
    actor: ActorDep,
    session: SessionDep,
    page: PageDep,
    q: SearchQuery = None,
    status: Annotated[BroadcastStatus | None, Query()] = None,
    email: OptionalIdQuery = None,
) -> ListResponse[BroadcastRead]:
    result = await broadcast_service.list_page(
        session, actor=actor, page=page, q=q, status=status, email_id=email
    )
    reads = {b.id: b for b in await broadcast_service.read_many(session, result.items)}
    return list_response(result, lambda b: reads[b.id])


@router.post("/broadcasts", response_model=BroadcastRead, status_code=201)
async def create_broadcast(
    body: BroadcastCreate, response: Response, actor: ActorDep, session: SessionDep, now: NowDep
) -> BroadcastRead:
    broadcast = await broadcast_service.create(session, data=body, actor=actor, now=now)
    set_etag(response, broadcast.version)
    return await broadcast_service.read(session, broadcast)


@router.get("/broadcasts/{broadcast_id}", response_model=BroadcastRead)
async def get_broadcast(
    broadcast_id: IdPath, response: Response, actor: ActorDep, session: SessionDep
) -> BroadcastRead:
    broadcast = await broadcast_service.get(session, broadcast_id, actor=actor)
    set_etag(response, broadcast.version)
    return await broadcast_service.read(session, broadcast)


@router.patch(
    "/broadcasts/{broadcast_id}",
    response_model=BroadcastRead,
    summary="Edit a draft or scheduled broadcast",
)
async def update_broadcast(
    broadcast_id: IdPath,
    body: BroadcastUpdate,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    now: NowDep,
    expected: IfMatchDep,
) -> BroadcastRead:
    broadcast = await broadcast_service.update(
        session, broadcast_id, data=body, actor=actor, now=now, expected_version=expected
    )
    set_etag(response, broadcast.version)
    return await broadcast_service.read(session, broadcast)


@router.delete(
    "/broadcasts/{broadcast_id}",
    status_code=204,
    summary="Delete a broadcast that is not sending (cancel it first)",
)
async def delete_broadcast(
    broadcast_id: IdPath, actor: ActorDep, session: SessionDep, now: NowDep
) -> None:
    await broadcast_service.delete(session, broadcast_id, actor=actor, now=now)


@router.post(
    "/broadcasts/{broadcast_id}/schedule",
    response_model=BroadcastRead,
    summary="Schedule a draft: sending starts at its start time (now if it has none)",
)
async def schedule_broadcast(
    broadcast_id: IdPath,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    now: NowDep,
    expected: IfMatchDep,
) -> BroadcastRead:
    broadcast = await broadcast_service.schedule(
        session, broadcast_id, actor=actor, now=now, expected_version=expected
    )
    set_etag(response, broadcast.version)
    return await broadcast_service.read(session, broadcast)


@router.post(
    "/broadcasts/{broadcast_id}/cancel",
    response_model=BroadcastRead,
    summary="Cancel: nothing more is queued, queued messages that have not gone are dropped",
)
async def cancel_broadcast(
    broadcast_id: IdPath,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    now: NowDep,
    expected: IfMatchDep,
) -> BroadcastRead:
    broadcast = await broadcast_service.cancel(
        session, broadcast_id, actor=actor, now=now, expected_version=expected
    )
    set_etag(response, broadcast.version)
    return await broadcast_service.read(session, broadcast)


@router.get(
    "/broadcasts/{broadcast_id}/recipients",
    response_model=ListResponse[RecipientRead],
    summary="The audience so far, each contact with the state of its message",
)
async def list_recipients(
    broadcast_id: IdPath,
    actor: ActorDep,
    session: SessionDep,
    page: PageDep,
    status: Annotated[RecipientStatus | None, Query()] = None,
) -> ListResponse[RecipientRead]:
    result = await broadcast_service.recipients_page(
        session, broadcast_id, actor=actor, page=page, status=status
    )
    return list_response(result, lambda r: r)
