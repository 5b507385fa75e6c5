from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from trellis.api.deps import ActorDep, IfMatchDep, NowDep, SessionDep, set_etag
from trellis.api.pagination import ListResponse, list_response, page_request
from trellis.api.params import TEXT_PATTERN, IdPath, OptionalIdQuery, SearchQuery
from trellis.api.routing import API_PREFIX
from trellis.clock import ensure_aware
from trellis.db.pagination import PageRequest
from trellis.domains.companies.service import company_service
from trellis.domains.contacts.schemas import (
    ActivityPage,
    BatchUpsert,
    BatchUpsertResult,
    BulkAction,
    BulkResult,
    Channel,
    CompanyLinkRequest,
    ContactCreate,
    ContactRead,
    ContactUpdate,
    DncRequest,
    MergeRequest,
    PointsChangeRequest,
    TagRead,
    TagRename,
)
from trellis.domains.contacts.service import contact_service
from trellis.domains.contacts.tags import contact_tag_service

router = APIRouter(prefix=API_PREFIX, tags=["contacts"])
PageDep = Annotated[PageRequest, Depends(page_request)]


@router.get("/contacts", response_model=ListResponse[ContactRead])
async def list_contacts(
    actor: ActorDep,
    session: SessionDep,
    page: PageDep,
    q: SearchQuery = None,
    tag: Annotated[str | None, Query(max_length=100, pattern=TEXT_PATTERN)] = None,
    owner_id: OptionalIdQuery = None,
    stage_id: OptionalIdQuery = None,
    company_id: OptionalIdQuery = None,
) -> ListResponse[ContactRead]:
    result = await contact_service.list_page(
        session,
        actor=actor,
        page=page,
        q=q,
        tag=tag,
        owner_id=owner_id,
        stage_id=stage_id,
        company_id=company_id,
    )
    return list_response(result, lambda c: c)


@router.post("/contacts", response_model=ContactRead, status_code=201)
async def create_contact(
    body: ContactCreate, response: Response, actor: ActorDep, session: SessionDep, now: NowDep
) -> ContactRead:
    contact = await contact_service.create(session, data=body, actor=actor, now=now)
    set_etag(response, contact.version)
    return contact


@router.post(
    "/contacts/batch",
    response_model=BatchUpsertResult,
    summary="Create or update up to 1,000 contacts, with a result per item",
)
async def batch_upsert(
    body: BatchUpsert, actor: ActorDep, session: SessionDep, now: NowDep
) -> BatchUpsertResult:
    return await contact_service.upsert_many(session, items=body.contacts, actor=actor, now=now)


@router.post(
    "/contacts/bulk",
    response_model=BulkResult,
    summary="Tag, untag, DNC or delete up to 1,000 contacts at once",
)
async def bulk_action(
    body: BulkAction, actor: ActorDep, session: SessionDep, now: NowDep
) -> BulkResult:
    return await contact_service.bulk(session, data=body, actor=actor, now=now)


@router.get("/contacts/{contact_id}", response_model=ContactRead)
async def get_contact(
    contact_id: IdPath, response: Response, actor: ActorDep, session: SessionDep
) -> ContactRead:
    contact = await contact_service.get(session, contact_id, actor=actor)
    set_etag(response, contact.version)
    return contact


@router.patch("/contacts/{contact_id}", response_model=ContactRead)
async def update_contact(
    contact_id: IdPath,
    body: ContactUpdate,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    now: NowDep,
    expected: IfMatchDep,
) -> ContactRead:
    contact = await contact_service.update(
        session, contact_id, data=body, actor=actor, now=now, expected_version=expected
    )
    set_etag(response, contact.version)
    return contact


@router.delete("/contacts/{contact_id}", status_code=204)
async def delete_contact(
    contact_id: IdPath, actor: ActorDep, session: SessionDep, now: NowDep
) -> None:
    await contact_service.delete(session, contact_id, actor=actor, now=now)


@router.post(
    "/contacts/{contact_id}/merge",
    response_model=ContactRead,
    summary="Merge another contact into this one",
)
async def merge_contacts(
    contact_id: IdPath, body: MergeRequest, actor: ActorDep, session: SessionDep, now: NowDep
) -> ContactRead:
    return await contact_service.merge(
        session, winner_id=contact_id, loser_id=body.other_id, actor=actor, now=now
    )


@router.post("/contacts/{contact_id}/points", response_model=ContactRead)
async def change_points(
    contact_id: IdPath,
    body: PointsChangeRequest,
    actor: ActorDep,
    session: SessionDep,
    now: NowDep,
) -> ContactRead:
    contact = await contact_service.require_editable(session, contact_id, actor=actor)
    await contact_service.change_points(
        session,
        contact_ids=[contact.id],
        delta=body.delta,
        reason=body.reason or "Manual",
        source_type=actor.type,
        source_id=actor.user_id,
        now=now,
    )
    await session.refresh(contact)
    return await contact_service.get(session, contact.id, actor=actor)


@router.post(
    "/contacts/{contact_id}/dnc", response_model=ContactRead, summary="Do not contact on a channel"
)
async def add_dnc(
    contact_id: IdPath, body: DncRequest, actor: ActorDep, session: SessionDep, now: NowDep
) -> ContactRead:
    contact = await contact_service.require_editable(session, contact_id, actor=actor)
    await contact_service.add_dnc(
        session,
        contact_ids=[contact.id],
        channel=body.channel,
        reason=body.reason,
        comment=body.comment,
        source_type=actor.type,
        source_id=actor.user_id,
        now=now,
    )
    return await contact_service.get(session, contact.id, actor=actor)


@router.delete("/contacts/{contact_id}/dnc/{channel}", response_model=ContactRead)
async def remove_dnc(
    contact_id: IdPath, channel: Channel, actor: ActorDep, session: SessionDep, now: NowDep
) -> ContactRead:
    contact = await contact_service.require_editable(session, contact_id, actor=actor)
    await contact_service.remove_dnc(
        session,
        contact_ids=[contact.id],
        channel=channel,
        source_type=actor.type,
        source_id=actor.user_id,
        now=now,
    )
    return await contact_service.get(session, contact.id, actor=actor)


@router.post("/contacts/{contact_id}/companies", response_model=ContactRead)
async def link_company(
    contact_id: IdPath,
    body: CompanyLinkRequest,
    actor: ActorDep,
    session: SessionDep,
    now: NowDep,
) -> ContactRead:
    contact = await contact_service.require_editable(session, contact_id, actor=actor)
    await company_service.get(session, body.company_id, actor=actor)
    await contact_service.set_company(
        session,
        contact_ids=[contact.id],
        company_id=body.company_id,
        primary=body.is_primary,
        now=now,
    )
    return await contact_service.get(session, contact.id, actor=actor)


@router.delete("/contacts/{contact_id}/companies/{company_id}", response_model=ContactRead)
async def unlink_company(
    contact_id: IdPath, company_id: IdPath, actor: ActorDep, session: SessionDep, now: NowDep
) -> ContactRead:
    contact = await contact_service.require_editable(session, contact_id, actor=actor)
    await contact_service.unset_company(
        session, contact_ids=[contact.id], company_id=company_id, now=now
    )
    return await contact_service.get(session, contact.id, actor=actor)


@router.get(
    "/contacts/{contact_id}/activity",
    response_model=ActivityPage,
    summary="The contact's timeline, newest first",
)
async def contact_activity(
    contact_id: IdPath,
    actor: ActorDep,
    session: SessionDep,
    before: Annotated[datetime | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ActivityPage:
    return await contact_service.timeline(
        session,
        contact_id,
        actor=actor,
        before=ensure_aware(before) if before else None,
        limit=limit,
    )


@router.get("/tags", response_model=ListResponse[TagRead], tags=["tags"])
async def list_tags(
    actor: ActorDep, session: SessionDep, page: PageDep, q: SearchQuery = None
) -> ListResponse[TagRead]:
    result = await contact_tag_service.list_tags(session, actor=actor, q=q, page=page)
    return list_response(
        result, lambda row: TagRead(id=row.id, name=row.name, contacts=row.contacts)
    )


@router.patch("/tags/{tag_id}", status_code=204, tags=["tags"])
async def rename_tag(
    tag_id: IdPath, body: TagRename, actor: ActorDep, session: SessionDep, now: NowDep
) -> None:
    await contact_tag_service.rename_tag(session, tag_id, name=body.name, actor=actor, now=now)


@router.delete("/tags/{tag_id}", status_code=204, tags=["tags"])
async def delete_tag(tag_id: IdPath, actor: ActorDep, session: SessionDep, now: NowDep) -> None:
    await contact_tag_service.delete_tag(session, tag_id, actor=actor, now=now)
