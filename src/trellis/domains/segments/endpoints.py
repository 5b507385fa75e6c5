from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from trellis.api.deps import ActorDep, IfMatchDep, NowDep, SessionDep, set_etag
from trellis.api.pagination import ListResponse, list_response, page_request
from trellis.api.params import IdPath, OptionalIdQuery, SearchQuery
from trellis.api.routing import API_PREFIX
from trellis.db.pagination import PageRequest
from trellis.domains.segments import tasks as _tasks  # noqa: F401  (registers the jobs)
from trellis.domains.segments.schemas import (
    ContactSegmentRead,
    CountRead,
    FilterCount,
    FilterTypeRead,
    MemberIds,
    MemberRead,
    MembershipResult,
    RebuildQueued,
    SegmentCreate,
    SegmentRead,
    SegmentUpdate,
)
from trellis.domains.segments.service import segment_service

router = APIRouter(prefix=API_PREFIX, tags=["segments"])
PageDep = Annotated[PageRequest, Depends(page_request)]


@router.get("/segments", response_model=ListResponse[SegmentRead])
async def list_segments(
    actor: ActorDep,
    session: SessionDep,
    page: PageDep,
    q: SearchQuery = None,
    project: OptionalIdQuery = None,
    is_published: Annotated[bool | None, Query()] = None,
) -> ListResponse[SegmentRead]:
    result = await segment_service.list_page(
        session, actor=actor, page=page, q=q, project_id=project, is_published=is_published
    )
    reads = {s.id: s for s in await segment_service.read_many(session, result.items)}
    return list_response(result, lambda s: reads[s.id])


@router.post("/segments", response_model=SegmentRead, status_code=201)
async def create_segment(
    body: SegmentCreate, response: Response, actor: ActorDep, session: SessionDep, now: NowDep
) -> SegmentRead:
    segment = await segment_service.create(session, data=body, actor=actor, now=now)
    set_etag(response, segment.version)
    return await segment_service.read(session, segment)


@router.post(
    "/segments/count",
    response_model=CountRead,
    summary="Count the contacts a filter document matches now, without saving it",
)
async def count_matching(
    body: FilterCount, actor: ActorDep, session: SessionDep, now: NowDep
) -> CountRead:
    count = await segment_service.count(session, filters=body.filters, actor=actor, now=now)
    return CountRead(count=count)


@router.get("/segments/{segment_id}", response_model=SegmentRead)
async def get_segment(
    segment_id: IdPath, response: Response, actor: ActorDep, session: SessionDep
) -> SegmentRead:
    segment = await segment_service.get(session, segment_id, actor=actor)
    set_etag(response, segment.version)
    return await segment_service.read(session, segment)


@router.patch("/segments/{segment_id}", response_model=SegmentRead)
async def update_segment(
    segment_id: IdPath,
    body: SegmentUpdate,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    now: NowDep,
    expected: IfMatchDep,
) -> SegmentRead:
    segment = await segment_service.update(
        session, segment_id, data=body, actor=actor, now=now, expected_version=expected
    )
    set_etag(response, segment.version)
    return await segment_service.read(session, segment)


@router.delete("/segments/{segment_id}", status_code=204)
async def delete_segment(
    segment_id: IdPath, actor: ActorDep, session: SessionDep, now: NowDep
) -> None:
    await segment_service.delete(session, segment_id, actor=actor, now=now)


@router.get("/segments/{segment_id}/members", response_model=ListResponse[MemberRead])
async def list_members(
    segment_id: IdPath, actor: ActorDep, session: SessionDep, page: PageDep
) -> ListResponse[MemberRead]:
    result = await segment_service.members_page(session, segment_id, actor=actor, page=page)
    return list_response(result, lambda m: m)


@router.post(
    "/segments/{segment_id}/members",
    response_model=MembershipResult,
    summary="Add contacts by hand (they stay until removed by hand)",
)
async def add_members(
    segment_id: IdPath, body: MemberIds, actor: ActorDep, session: SessionDep, now: NowDep
) -> MembershipResult:
    return await segment_service.add_members(
        session, segment_id, contact_ids=body.contact_ids, actor=actor, now=now
    )


@router.delete(
    "/segments/{segment_id}/members",
    response_model=MembershipResult,
    summary="Remove contacts by hand (no rebuild adds them back)",
)
async def remove_members(
    segment_id: IdPath, body: MemberIds, actor: ActorDep, session: SessionDep, now: NowDep
) -> MembershipResult:
    return await segment_service.remove_members(
        session, segment_id, contact_ids=body.contact_ids, actor=actor, now=now
    )


@router.post(
    "/segments/{segment_id}/rebuild",
    response_model=RebuildQueued,
    status_code=202,
    summary="Rebuild the membership in the background",
)
async def rebuild_segment(
    segment_id: IdPath, actor: ActorDep, session: SessionDep
) -> RebuildQueued:
    await segment_service.request_rebuild(session, segment_id, actor=actor)
    return RebuildQueued(segment_id=segment_id)


@router.get("/segment-filter-types", response_model=list[FilterTypeRead])
async def list_filter_types(actor: ActorDep) -> list[FilterTypeRead]:
    return segment_service.filter_types(actor=actor)


@router.get("/contacts/{contact_id}/segments", response_model=list[ContactSegmentRead])
async def contact_segments(
    contact_id: IdPath, actor: ActorDep, session: SessionDep
) -> list[ContactSegmentRead]:
    return await segment_service.segments_of_contact(session, contact_id, actor=actor)
