"""API v2 routes of landing pages: the documents, clone and preview."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from trellis.api.deps import ActorDep, IfMatchDep, NowDep, SessionDep, set_etag
from trellis.api.pagination import ListResponse, list_response, page_request
from trellis.api.params import IdPath, OptionalIdQuery, SearchQuery
from trellis.api.routing import API_PREFIX
from trellis.db.pagination import PageRequest
from trellis.domains.landing_pages.schemas import (
    PageClone,
    PageCreate,
    PagePreviewRead,
    PagePreviewRequest,
    PageRead,
    PageUpdate,
)
from trellis.domains.landing_pages.service import page_service

router = APIRouter(prefix=API_PREFIX, tags=["pages"])
PageDep = Annotated[PageRequest, Depends(page_request)]


@router.get("/pages", response_model=ListResponse[PageRead])
async def list_pages(
    actor: ActorDep,
    session: SessionDep,
    page: PageDep,
    q: SearchQuery = None,
    project: OptionalIdQuery = None,
    is_published: Annotated[bool | None, Query()] = None,
) -> ListResponse[PageRead]:
    result = await page_service.list_page(
        session, actor=actor, page=page, q=q, project_id=project, is_published=is_published
    )
    reads = {p.id: p for p in await page_service.read_many(session, result.items)}
    return list_response(result, lambda p: reads[p.id])


@router.post("/pages", response_model=PageRead, status_code=201)
async def create_page(
    body: PageCreate, response: Response, actor: ActorDep, session: SessionDep, now: NowDep
) -> PageRead:
    page = await page_service.create(session, data=body, actor=actor, now=now)
    set_etag(response, page.version)
    return await page_service.read(session, page)


@router.get("/pages/{page_id}", response_model=PageRead)
async def get_page(
    page_id: IdPath, response: Response, actor: ActorDep, session: SessionDep
) -> PageRead:
    page = await page_service.get(session, page_id, actor=actor)
    set_etag(response, page.version)
    return await page_service.read(session, page)


@router.patch("/pages/{page_id}", response_model=PageRead)
async def update_page(
    page_id: IdPath,
    body: PageUpdate,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    now: NowDep,
    expected: IfMatchDep,
) -> PageRead:
    page = await page_service.update(
        session, page_id, data=body, actor=actor, now=now, expected_version=expected
    )
    set_etag(response, page.version)
    return await page_service.read(session, page)


@router.delete("/pages/{page_id}", status_code=204)
async def delete_page(page_id: IdPath, actor: ActorDep, session: SessionDep, now: NowDep) -> None:
    await page_service.delete(session, page_id, actor=actor, now=now)


@router.post("/pages/{page_id}/clone", response_model=PageRead, status_code=201)
async def clone_page(
    page_id: IdPath,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    now: NowDep,
    body: PageClone | None = None,
) -> PageRead:
    page = await page_service.clone(
        session, page_id, data=body or PageClone(), actor=actor, now=now
    )
    set_etag(response, page.version)
    return await page_service.read(session, page)


@router.post(
    "/pages/{page_id}/preview",
    response_model=PagePreviewRead,
    summary="Render the page (saved, or with unsaved HTML/CSS) as a visitor or a contact",
)
async def preview_page(
    page_id: IdPath, body: PagePreviewRequest, actor: ActorDep, session: SessionDep, now: NowDep
) -> PagePreviewRead:
    return await page_service.preview(
        session,
        page_id,
        contact_id=body.contact_id,
        html=body.html,
        css=body.css,
        actor=actor,
        now=now,
    )
