from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from trellis.api.deps import ActorDep, IfMatchDep, NowDep, SessionDep, set_etag
from trellis.api.params import IdPath
from trellis.api.routing import API_PREFIX
from trellis.domains.fields.schemas import FieldCreate, FieldObject, FieldRead, FieldUpdate
from trellis.domains.fields.service import field_service

router = APIRouter(prefix=API_PREFIX, tags=["fields"])


@router.get("/fields", response_model=list[FieldRead], summary="Core and custom fields")
async def list_fields(
    actor: ActorDep,
    session: SessionDep,
    object: Annotated[FieldObject, Query()] = "contact",
) -> list[FieldRead]:
    return await field_service.list_fields(session, actor=actor, object_=object)


@router.post("/fields", response_model=FieldRead, status_code=201)
async def create_field(
    body: FieldCreate, response: Response, actor: ActorDep, session: SessionDep, now: NowDep
) -> FieldRead:
    custom = await field_service.create(session, data=body, actor=actor, now=now)
    set_etag(response, custom.version)
    return FieldRead.model_validate(custom)


@router.get("/fields/{field_id}", response_model=FieldRead)
async def get_field(
    field_id: IdPath, response: Response, actor: ActorDep, session: SessionDep
) -> FieldRead:
    custom = await field_service.get(session, field_id, actor=actor)
    set_etag(response, custom.version)
    return FieldRead.model_validate(custom)


@router.patch("/fields/{field_id}", response_model=FieldRead)
async def update_field(
    field_id: IdPath,
    body: FieldUpdate,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    now: NowDep,
    expected: IfMatchDep,
) -> FieldRead:
    custom = await field_service.update(
        session, field_id, data=body, actor=actor, now=now, expected_version=expected
    )
    set_etag(response, custom.version)
    return FieldRead.model_validate(custom)


@router.delete("/fields/{field_id}", status_code=204)
async def delete_field(field_id: IdPath, actor: ActorDep, session: SessionDep, now: NowDep) -> None:
    await field_service.delete(session, field_id, actor=actor, now=now)
