from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from trellis.api.deps import ActorDep, IfMatchDep, NowDep, SessionDep, set_etag
from trellis.api.pagination import ListResponse, list_response, page_request
from trellis.api.params import IdPath, SearchQuery
from trellis.api.routing import API_PREFIX
from trellis.db.pagination import PageRequest
from trellis.domains.projects.schemas import (
    ProjectCreate,
    ProjectEntities,
    ProjectRead,
    ProjectUpdate,
)
from trellis.domains.projects.service import project_service

router = APIRouter(prefix=API_PREFIX, tags=["projects"])
PageDep = Annotated[PageRequest, Depends(page_request)]


@router.get("/projects", response_model=ListResponse[ProjectRead])
async def list_projects(
    actor: ActorDep,
    session: SessionDep,
    page: PageDep,
    q: SearchQuery = None,
) -> ListResponse[ProjectRead]:
    result = await project_service.list_page(session, actor=actor, page=page, q=q)
    return list_response(result, ProjectRead.model_validate)


@router.post("/projects", response_model=ProjectRead, status_code=201)
async def create_project(
    body: ProjectCreate, response: Response, actor: ActorDep, session: SessionDep, now: NowDep
) -> ProjectRead:
    project = await project_service.create(session, data=body, actor=actor, now=now)
    set_etag(response, project.version)
    return ProjectRead.model_validate(project)


@router.get("/projects/{project_id}", response_model=ProjectRead)
async def get_project(
    project_id: IdPath, response: Response, actor: ActorDep, session: SessionDep
) -> ProjectRead:
    project = await project_service.get(session, project_id, actor=actor)
    set_etag(response, project.version)
    return ProjectRead.model_validate(project)


@router.patch("/projects/{project_id}", response_model=ProjectRead)
async def update_project(
    project_id: IdPath,
    body: ProjectUpdate,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    now: NowDep,
    expected: IfMatchDep,
) -> ProjectRead:
    project = await project_service.update(
        session, project_id, data=body, actor=actor, now=now, expected_version=expected
    )
    set_etag(response, project.version)
    return ProjectRead.model_validate(project)


@router.delete("/projects/{project_id}", status_code=204)
async def delete_project(
    project_id: IdPath, actor: ActorDep, session: SessionDep, now: NowDep
) -> None:
    await project_service.delete(session, project_id, actor=actor, now=now)


@router.get("/projects/{project_id}/entities", response_model=ProjectEntities)
async def project_entities(
    project_id: IdPath, actor: ActorDep, session: SessionDep
) -> ProjectEntities:
    return await project_service.entities(session, project_id, actor=actor)
