"""API v2 routes of assets: upload (multipart), the documents, download links and counts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile
from pydantic import ValidationError

from trellis import json_limits
from trellis.api.deps import ActorDep, IfMatchDep, NowDep, SessionDep, set_etag
from trellis.api.pagination import ListResponse, list_response, page_request
from trellis.api.params import IdPath, OptionalIdQuery, SearchQuery
from trellis.api.routing import API_PREFIX
from trellis.db.pagination import PageRequest
from trellis.domains.assets.schemas import AssetLinkRead, AssetMeta, AssetRead, AssetUpdate
from trellis.domains.assets.service import asset_service
from trellis.errors import FieldError, ValidationFailed, json_pointer

router = APIRouter(prefix=API_PREFIX, tags=["assets"])
PageDep = Annotated[PageRequest, Depends(page_request)]


def _meta(
    name: str | None,
    description: str,
    slug: str | None,
    is_published: str,
    gate_form_id: str | None,
    projects: str,
) -> AssetMeta:
    errors: list[FieldError] = []
    try:
        project_ids = json_limits.loads(projects) if projects.strip() else []
    except ValueError:
        errors.append(FieldError("/projects", "Send a JSON array of project ids.", "invalid"))
        project_ids = []
    raw: dict[str, object] = {
        "description": description,
        "is_published": is_published or False,
        "projects": project_ids,
    }
    if name:
        raw["name"] = name
    if slug:
        raw["slug"] = slug
    if gate_form_id:
        raw["gate_form_id"] = gate_form_id
    try:
        meta = AssetMeta.model_validate(raw)
    except ValidationError as exc:
        errors += [
            FieldError(json_pointer(*[str(p) for p in e["loc"]]), e["msg"], "invalid")
            for e in exc.errors()
        ]
        meta = AssetMeta()
    if errors:
        raise ValidationFailed("The asset cannot be saved as it is.", errors)
    return meta


@router.get("/assets", response_model=ListResponse[AssetRead])
async def list_assets(
    actor: ActorDep,
    session: SessionDep,
    page: PageDep,
    q: SearchQuery = None,
    project: OptionalIdQuery = None,
    is_published: Annotated[bool | None, Query()] = None,
) -> ListResponse[AssetRead]:
    result = await asset_service.list_page(
        session, actor=actor, page=page, q=q, project_id=project, is_published=is_published
    )
    reads = {a.id: a for a in await asset_service.read_many(session, result.items)}
    return list_response(result, lambda a: reads[a.id])


@router.post(
    "/assets",
    response_model=AssetRead,
    status_code=201,
    summary="Upload a file (multipart): pdf, images, zip, Office, txt, csv or mp4",
)
async def upload_asset(
    file: Annotated[UploadFile, File(description="The file.")],
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    now: NowDep,
    name: Annotated[str | None, Form(max_length=200)] = None,
    description: Annotated[str, Form(max_length=5000)] = "",
    slug: Annotated[str | None, Form(max_length=100)] = None,
    is_published: Annotated[str, Form(max_length=5)] = "false",
    gate_form_id: Annotated[str | None, Form(max_length=20)] = None,
    projects: Annotated[str, Form(max_length=2000, description="JSON array of ids")] = "[]",
) -> AssetRead:
    meta = _meta(name, description, slug, is_published, gate_form_id, projects)
    asset = await asset_service.upload(
        session,
        source=file.file,
        filename=file.filename or "",
        meta=meta,
        actor=actor,
        now=now,
    )
    set_etag(response, asset.version)
    return await asset_service.read(session, asset)


@router.get("/assets/{asset_id}", response_model=AssetRead)
async def get_asset(
    asset_id: IdPath, response: Response, actor: ActorDep, session: SessionDep
) -> AssetRead:
    asset = await asset_service.get(session, asset_id, actor=actor)
    set_etag(response, asset.version)
    return await asset_service.read(session, asset)


@router.patch("/assets/{asset_id}", response_model=AssetRead)
async def update_asset(
    asset_id: IdPath,
    body: AssetUpdate,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    now: NowDep,
    expected: IfMatchDep,
) -> AssetRead:
    asset = await asset_service.update(
        session, asset_id, data=body, actor=actor, now=now, expected_version=expected
    )
    set_etag(response, asset.version)
    return await asset_service.read(session, asset)


@router.delete("/assets/{asset_id}", status_code=204)
async def delete_asset(asset_id: IdPath, actor: ActorDep, session: SessionDep, now: NowDep) -> None:
    key = await asset_service.delete(session, asset_id, actor=actor, now=now)
    await session.commit()
    asset_service.remove_file(key)


@router.get(
    "/assets/{asset_id}/link",
    response_model=AssetLinkRead,
    summary="The tracked download link, signed for a contact when contact_id is given",
)
async def asset_link(
    asset_id: IdPath,
    actor: ActorDep,
    session: SessionDep,
    contact_id: OptionalIdQuery = None,
) -> AssetLinkRead:
    url = await asset_service.link(session, asset_id, contact_id=contact_id, actor=actor)
    return AssetLinkRead(url=url)
