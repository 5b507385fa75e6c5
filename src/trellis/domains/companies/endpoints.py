from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from trellis.api.deps import ActorDep, IfMatchDep, NowDep, SessionDep, set_etag
from trellis.api.pagination import ListResponse, list_response, page_request
from trellis.api.params import IdPath, SearchQuery
from trellis.api.routing import API_PREFIX
from trellis.db.pagination import PageRequest
from trellis.domains.companies.schemas import CompanyCreate, CompanyRead, CompanyUpdate
from trellis.domains.companies.service import company_service

router = APIRouter(prefix=API_PREFIX, tags=["companies"])
PageDep = Annotated[PageRequest, Depends(page_request)]


@router.get("/companies", response_model=ListResponse[CompanyRead])
async def list_companies(
    actor: ActorDep, session: SessionDep, page: PageDep, q: SearchQuery = None
) -> ListResponse[CompanyRead]:
    result = await company_service.list_page(session, actor=actor, page=page, q=q)
    return list_response(result, lambda c: c)


@router.post("/companies", response_model=CompanyRead, status_code=201)
async def create_company(
    body: CompanyCreate, response: Response, actor: ActorDep, session: SessionDep, now: NowDep
) -> CompanyRead:
    company = await company_service.create(session, data=body, actor=actor, now=now)
    set_etag(response, company.version)
    return (await company_service.read_many(session, [company]))[0]


@router.get("/companies/{company_id}", response_model=CompanyRead)
async def get_company(
    company_id: IdPath, response: Response, actor: ActorDep, session: SessionDep
) -> CompanyRead:
    company = await company_service.get(session, company_id, actor=actor)
    set_etag(response, company.version)
    return (await company_service.read_many(session, [company]))[0]


@router.patch("/companies/{company_id}", response_model=CompanyRead)
async def update_company(
    company_id: IdPath,
    body: CompanyUpdate,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    now: NowDep,
    expected: IfMatchDep,
) -> CompanyRead:
    company = await company_service.update(
        session, company_id, data=body, actor=actor, now=now, expected_version=expected
    )
    set_etag(response, company.version)
    return (await company_service.read_many(session, [company]))[0]


@router.delete("/companies/{company_id}", status_code=204)
async def delete_company(
    company_id: IdPath, actor: ActorDep, session: SessionDep, now: NowDep
) -> None:
    await company_service.delete(session, company_id, actor=actor, now=now)
