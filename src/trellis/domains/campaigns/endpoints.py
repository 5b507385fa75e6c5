from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from trellis.api.batching import TrackBatcher
from trellis.api.deps import ActorDep, IfMatchDep, NowDep, SessionDep, set_etag
from trellis.api.pagination import ListResponse, list_response, page_request
from trellis.api.params import IdPath, OptionalIdQuery, SearchQuery
from trellis.api.routing import API_PREFIX
from trellis.db.pagination import PageRequest
from trellis.domains.campaigns.schemas import (
    CampaignRead,
    CampaignSave,
    CampaignSummary,
    CampaignWrite,
    EventStatsRead,
    EventTypeRead,
    FailureRead,
    Journey,
    Key,
    MemberRead,
    MembersChange,
    MembersChangeResult,
    PublishPreview,
    StepChange,
    TrackEvent,
    TrackResult,
    ValidationReport,
)
from trellis.domains.campaigns.service import campaign_service

router = APIRouter(prefix=API_PREFIX, tags=["campaigns"])
# The track API takes the bulk of the API traffic: the app matches this router before the
# others (route matching walks every route in order, about a microsecond each).
track_router = APIRouter(prefix=API_PREFIX, tags=["tracking"])
PageDep = Annotated[PageRequest, Depends(page_request)]


@router.get(
    "/event-types",
    response_model=list[EventTypeRead],
    summary="The campaign step types, with the JSON Schema of their settings",
)
async def event_types(actor: ActorDep) -> list[EventTypeRead]:
    actor.require_view_any("campaigns")
    return [
        EventTypeRead(
            key=t.key,
            kind=t.kind.value,
            label=t.label,
            description=t.description,
            group=t.group,
            leaf=t.leaf,
            external=t.external,
            jumps=t.jumps,
            parent_types=sorted(t.parent_types),
            behaviour=t.behaviour,
            references=dict(t.references),
            schema_=t.schema(),
        )
        for t in campaign_service.registry
    ]


@router.get("/campaigns", response_model=ListResponse[CampaignSummary])
async def list_campaigns(
    actor: ActorDep,
    session: SessionDep,
    page: PageDep,
    q: SearchQuery = None,
    project: OptionalIdQuery = None,
    published: Annotated[bool | None, Query()] = None,
) -> ListResponse[CampaignSummary]:
    result = await campaign_service.list_page(
        session, actor=actor, page=page, q=q, project_id=project, published=published
    )
    return list_response(result, lambda c: c)


@router.post("/campaigns", response_model=CampaignRead, status_code=201)
async def create_campaign(
    body: CampaignWrite, response: Response, actor: ActorDep, session: SessionDep, now: NowDep
) -> CampaignRead:
    campaign = await campaign_service.create(session, data=body, actor=actor, now=now)
    set_etag(response, campaign.version)
    return await campaign_service.read(session, campaign)


@router.post(
    "/campaigns/validate",
    response_model=ValidationReport,
    summary="Check a campaign document without saving it",
)
async def validate_campaign(
    body: CampaignWrite, actor: ActorDep, session: SessionDep
) -> ValidationReport:
    actor.require_view_any("campaigns")
    errors = await campaign_service.problems(session, body, actor=actor)
    return ValidationReport(valid=not errors, errors=[e.as_dict() for e in errors])


@router.get("/campaigns/{campaign_id}", response_model=CampaignRead)
async def get_campaign(
    campaign_id: IdPath, response: Response, actor: ActorDep, session: SessionDep
) -> CampaignRead:
    campaign = await campaign_service.get(session, campaign_id, actor=actor)
    set_etag(response, campaign.version)
    return await campaign_service.read(session, campaign)


@router.put(
    "/campaigns/{campaign_id}",
    response_model=CampaignRead,
    summary="Save the whole campaign document",
)
async def save_campaign(
    campaign_id: IdPath,
    body: CampaignSave,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    now: NowDep,
    expected: IfMatchDep,
) -> CampaignRead:
    campaign = await campaign_service.update(
        session, campaign_id, data=body, actor=actor, now=now, expected_version=expected
    )
    set_etag(response, campaign.version)
    return await campaign_service.read(session, campaign)


@router.delete("/campaigns/{campaign_id}", status_code=204)
async def delete_campaign(
    campaign_id: IdPath, actor: ActorDep, session: SessionDep, now: NowDep
) -> None:
    await campaign_service.delete(session, campaign_id, actor=actor, now=now)


@router.post("/campaigns/{campaign_id}/clone", response_model=CampaignRead, status_code=201)
async def clone_campaign(
    campaign_id: IdPath, actor: ActorDep, session: SessionDep, now: NowDep
) -> CampaignRead:
    campaign = await campaign_service.clone(session, campaign_id, actor=actor, now=now)
    return await campaign_service.read(session, campaign)


@router.post("/campaigns/{campaign_id}/publish", response_model=CampaignRead)
async def publish_campaign(
    campaign_id: IdPath, actor: ActorDep, session: SessionDep, now: NowDep
) -> CampaignRead:
    campaign = await campaign_service.set_published(
        session, campaign_id, published=True, actor=actor, now=now
    )
    return await campaign_service.read(session, campaign)


@router.post("/campaigns/{campaign_id}/unpublish", response_model=CampaignRead)
async def unpublish_campaign(
    campaign_id: IdPath, actor: ActorDep, session: SessionDep, now: NowDep
) -> CampaignRead:
    campaign = await campaign_service.set_published(
        session, campaign_id, published=False, actor=actor, now=now
    )
    return await campaign_service.read(session, campaign)


@router.get(
    "/campaigns/{campaign_id}/stats",
    response_model=dict[str, EventStatsRead],
    summary="Counts per step, kept as aggregates",
)
async def campaign_stats(
    campaign_id: IdPath, actor: ActorDep, session: SessionDep
) -> dict[str, EventStatsRead]:
    return await campaign_service.stats(session, campaign_id, actor=actor)


@router.get("/campaigns/{campaign_id}/members", response_model=ListResponse[MemberRead])
async def campaign_members(
    campaign_id: IdPath,
    actor: ActorDep,
    session: SessionDep,
    page: PageDep,
    status: Annotated[Literal["active", "exited", "removed"] | None, Query()] = None,
) -> ListResponse[MemberRead]:
    result = await campaign_service.members_page(
        session, campaign_id, actor=actor, page=page, status=status
    )
    return list_response(result, lambda m: m)


@router.post("/campaigns/{campaign_id}/members", response_model=MembersChangeResult)
async def add_campaign_members(
    campaign_id: IdPath, body: MembersChange, actor: ActorDep, session: SessionDep, now: NowDep
) -> MembersChangeResult:
    return await campaign_service.change_members(
        session, campaign_id, contact_ids=body.contact_ids, add=True, actor=actor, now=now
    )


@router.post("/campaigns/{campaign_id}/members/remove", response_model=MembersChangeResult)
async def remove_campaign_members(
    campaign_id: IdPath, body: MembersChange, actor: ActorDep, session: SessionDep, now: NowDep
) -> MembersChangeResult:
    return await campaign_service.change_members(
        session, campaign_id, contact_ids=body.contact_ids, add=False, actor=actor, now=now
    )


@router.get(
    "/campaigns/{campaign_id}/contacts/{contact_id}/journey",
    response_model=Journey,
    summary="Every step of a contact through the campaign, and why",
)
async def contact_journey(
    campaign_id: IdPath, contact_id: IdPath, actor: ActorDep, session: SessionDep
) -> Journey:
    return await campaign_service.journey(session, campaign_id, contact_id, actor=actor)


@router.post(
    "/campaigns/{campaign_id}/contacts/{contact_id}/steps/{event_key}",
    response_model=Journey,
    summary="Reschedule or cancel a waiting step, or retry a dead one",
)
async def change_step(
    campaign_id: IdPath,
    contact_id: IdPath,
    event_key: Key,
    body: StepChange,
    actor: ActorDep,
    session: SessionDep,
    now: NowDep,
) -> Journey:
    return await campaign_service.change_step(
        session, campaign_id, contact_id, event_key, change=body, actor=actor, now=now
    )


@router.post("/campaigns/{campaign_id}/retry-failed", summary="Retry every dead step")
async def retry_failed(
    campaign_id: IdPath, actor: ActorDep, session: SessionDep, now: NowDep
) -> dict[str, int]:
    return {
        "retried": await campaign_service.retry_dead(session, campaign_id, actor=actor, now=now)
    }


@track_router.post(
    "/events",
    response_model=TrackResult,
    summary="Record something a contact did; waiting decisions react at once",
)
async def track_event(body: TrackEvent, request: Request) -> TrackResult:
    # Authenticated and written by the batcher, together with the requests that arrive at the
    # same time (api/batching.py).
    batcher: TrackBatcher = request.app.state.track_batcher
    return await batcher.submit(request, body)


@router.get(
    "/contacts/{contact_id}/campaigns",
    response_model=list[MemberRead],
    tags=["contacts"],
    summary="The campaigns a contact is or was in",
)
async def contact_campaigns(
    contact_id: IdPath, actor: ActorDep, session: SessionDep
) -> list[MemberRead]:
    return await campaign_service.contact_campaigns(session, contact_id, actor=actor)


@router.get(
    "/campaigns/{campaign_id}/publish-preview",
    response_model=PublishPreview,
    summary="How many contacts would enter if the campaign were published now",
)
async def publish_preview(
    campaign_id: IdPath, actor: ActorDep, session: SessionDep, now: NowDep
) -> PublishPreview:
    return await campaign_service.publish_preview(session, campaign_id, actor=actor, now=now)


@router.get(
    "/campaigns/{campaign_id}/failures",
    response_model=ListResponse[FailureRead],
    summary="Failed steps waiting for another attempt, and dead ones, with their reason",
)
async def campaign_failures(
    campaign_id: IdPath,
    actor: ActorDep,
    session: SessionDep,
    page: PageDep,
    status: Annotated[Literal["failed", "dead"] | None, Query()] = None,
) -> ListResponse[FailureRead]:
    result = await campaign_service.failures_page(
        session, campaign_id, actor=actor, page=page, status=status
    )
    return list_response(result, lambda f: f)
