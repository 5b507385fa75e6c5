"""API v2 routes of forms: the form documents, their embed code and their submissions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from trellis.api.deps import ActorDep, IfMatchDep, NowDep, SessionDep, set_etag
from trellis.api.pagination import ListResponse, list_response, page_request
from trellis.api.params import IdPath, OptionalIdQuery, SearchQuery
from trellis.api.routing import API_PREFIX
from trellis.db.pagination import PageRequest
from trellis.db.session import Database
from trellis.domains.forms import tasks as _tasks  # noqa: F401  (registers the jobs)
from trellis.domains.forms.schemas import (
    ContactSubmissionRead,
    EmbedRead,
    FieldTypeRead,
    FormClone,
    FormCreate,
    FormRead,
    FormUpdate,
    SubmissionRead,
)
from trellis.domains.forms.service import form_service

router = APIRouter(prefix=API_PREFIX, tags=["forms"])
PageDep = Annotated[PageRequest, Depends(page_request)]


@router.get("/forms", response_model=ListResponse[FormRead])
async def list_forms(
    actor: ActorDep,
    session: SessionDep,
    page: PageDep,
    q: SearchQuery = None,
    project: OptionalIdQuery = None,
    is_published: Annotated[bool | None, Query()] = None,
) -> ListResponse[FormRead]:
    result = await form_service.list_page(
        session, actor=actor, page=page, q=q, project_id=project, is_published=is_published
    )
    reads = {f.id: f for f in await form_service.read_many(session, result.items)}
    return list_response(result, lambda f: reads[f.id])


@router.post("/forms", response_model=FormRead, status_code=201)
async def create_form(
    body: FormCreate, response: Response, actor: ActorDep, session: SessionDep, now: NowDep
) -> FormRead:
    form = await form_service.create(session, data=body, actor=actor, now=now)
    set_etag(response, form.version)
    return await form_service.read(session, form)


@router.get("/forms/{form_id}", response_model=FormRead)
async def get_form(
    form_id: IdPath, response: Response, actor: ActorDep, session: SessionDep
) -> FormRead:
    form = await form_service.get(session, form_id, actor=actor)
    set_etag(response, form.version)
    return await form_service.read(session, form)


@router.patch("/forms/{form_id}", response_model=FormRead)
async def update_form(
    form_id: IdPath,
    body: FormUpdate,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    now: NowDep,
    expected: IfMatchDep,
) -> FormRead:
    form = await form_service.update(
        session, form_id, data=body, actor=actor, now=now, expected_version=expected
    )
    set_etag(response, form.version)
    return await form_service.read(session, form)


@router.delete("/forms/{form_id}", status_code=204)
async def delete_form(form_id: IdPath, actor: ActorDep, session: SessionDep, now: NowDep) -> None:
    await form_service.delete(session, form_id, actor=actor, now=now)


@router.post("/forms/{form_id}/clone", response_model=FormRead, status_code=201)
async def clone_form(
    form_id: IdPath,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    now: NowDep,
    body: FormClone | None = None,
) -> FormRead:
    form = await form_service.clone(
        session, form_id, data=body or FormClone(), actor=actor, now=now
    )
    set_etag(response, form.version)
    return await form_service.read(session, form)


@router.get(
    "/forms/{form_id}/embed",
    response_model=EmbedRead,
    summary="The hosted URL, the script tag and the plain HTML of the form",
)
async def embed_form(form_id: IdPath, actor: ActorDep, session: SessionDep) -> EmbedRead:
    return form_service.embed(await form_service.get(session, form_id, actor=actor))


@router.get("/forms/{form_id}/submissions", response_model=ListResponse[SubmissionRead])
async def list_submissions(
    form_id: IdPath, actor: ActorDep, session: SessionDep, page: PageDep
) -> ListResponse[SubmissionRead]:
    result = await form_service.submissions_page(session, form_id, actor=actor, page=page)
    return list_response(result, lambda s: s)


@router.get(
    "/forms/{form_id}/submissions.csv",
    response_class=StreamingResponse,
    summary="Every submission as CSV (cells that could run as spreadsheet formulas are quoted)",
    responses={200: {"content": {"text/csv": {}}}},
)
async def export_submissions(
    form_id: IdPath, request: Request, actor: ActorDep, session: SessionDep
) -> StreamingResponse:
    form = await form_service.get(session, form_id, actor=actor)
    database: Database = request.app.state.database
    alias = form.alias

    async def rows() -> AsyncIterator[str]:
        # A session of its own: the response outlives the request's.
        async with database.unit_of_work(read_only=True) as reading:
            found = await form_service.get(reading, form_id, actor=actor)
            async for chunk in form_service.export_csv(reading, found):
                yield chunk

    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{alias}-submissions.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.get(
    "/contacts/{contact_id}/submissions", response_model=ListResponse[ContactSubmissionRead]
)
async def list_contact_submissions(
    contact_id: IdPath, actor: ActorDep, session: SessionDep, page: PageDep
) -> ListResponse[ContactSubmissionRead]:
    result = await form_service.contact_submissions_page(
        session, contact_id, actor=actor, page=page
    )
    return list_response(result, lambda s: s)


@router.get("/form-field-types", response_model=list[FieldTypeRead])
async def field_types(actor: ActorDep) -> list[FieldTypeRead]:
    return form_service.field_types()
