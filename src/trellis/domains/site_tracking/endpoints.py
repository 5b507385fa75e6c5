"""API v2 routes of website tracking: a contact's page hits and the recent hits of the site."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from trellis.api.deps import ActorDep, SessionDep
from trellis.api.pagination import ListResponse, list_response, page_request
from trellis.api.params import IdPath
from trellis.api.routing import API_PREFIX
from trellis.db.pagination import PageRequest
from trellis.domains.site_tracking.schemas import PageHitRead
from trellis.domains.site_tracking.service import web_service

router = APIRouter(prefix=API_PREFIX, tags=["web tracking"])
PageDep = Annotated[PageRequest, Depends(page_request)]


@router.get("/contacts/{contact_id}/page-hits", response_model=ListResponse[PageHitRead])
async def list_contact_page_hits(
    contact_id: IdPath, actor: ActorDep, session: SessionDep, page: PageDep
) -> ListResponse[PageHitRead]:
    """The contact's page visits, newest first (``sort=created_at`` for oldest first)."""
    result = await web_service.contact_hits_page(session, contact_id, actor=actor, page=page)
    return list_response(result, lambda h: h)


@router.get("/page-hits", response_model=ListResponse[PageHitRead])
async def list_page_hits(
    actor: ActorDep,
    session: SessionDep,
    page: PageDep,
    url: Annotated[
        str | None, Query(max_length=2000, description="Only hits of this exact URL.")
    ] = None,
) -> ListResponse[PageHitRead]:
    """Recent page hits of every tracked site, newest first."""
    result = await web_service.hits_page(session, actor=actor, page=page, url=url)
    return list_response(result, lambda h: h)
