from __future__ import annotations

from fastapi import APIRouter, Response

from trellis.api.deps import ActorDep, IfMatchDep, NowDep, SessionDep, set_etag
from trellis.api.params import IdPath
from trellis.api.routing import API_PREFIX
from trellis.domains.stages.schemas import StageCreate, StageRead, StageUpdate
from trellis.domains.stages.service import stage_service

router = APIRouter(prefix=API_PREFIX, tags=["stages"])


@router.get("/stages", response_model=list[StageRead], summary="Stages in their order")
async def list_stages(actor: ActorDep, session: SessionDep) -> list[StageRead]:
    return [StageRead.model_validate(s) for s in await stage_service.list_all(session, actor=actor)]


@router.post("/stages", response_model=StageRead, status_code=201)
async def create_stage(
    body: StageCreate, response: Response, actor: ActorDep, session: SessionDep, now: NowDep
) -> StageRead:
    stage = await stage_service.create(session, data=body, actor=actor, now=now)
    set_etag(response, stage.version)
    return StageRead.model_validate(stage)


@router.get("/stages/{stage_id}", response_model=StageRead)
async def get_stage(
    stage_id: IdPath, response: Response, actor: ActorDep, session: SessionDep
) -> StageRead:
    stage = await stage_service.get(session, stage_id, actor=actor)
    set_etag(response, stage.version)
    return StageRead.model_validate(stage)


@router.patch("/stages/{stage_id}", response_model=StageRead)
async def update_stage(
    stage_id: IdPath,
    body: StageUpdate,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    now: NowDep,
    expected: IfMatchDep,
) -> StageRead:
    stage = await stage_service.update(
        session, stage_id, data=body, actor=actor, now=now, expected_version=expected
    )
    set_etag(response, stage.version)
    return StageRead.model_validate(stage)


@router.delete("/stages/{stage_id}", status_code=204)
async def delete_stage(stage_id: IdPath, actor: ActorDep, session: SessionDep, now: NowDep) -> None:
    await stage_service.delete(session, stage_id, actor=actor, now=now)
