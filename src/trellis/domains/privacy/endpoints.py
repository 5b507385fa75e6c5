from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from trellis.api.deps import ActorDep, NowDep, SessionDep, WritingSessionDep
from trellis.api.pagination import ListResponse, list_response, page_request
from trellis.api.params import IdPath
from trellis.api.routing import API_PREFIX
from trellis.db.pagination import Page, PageRequest
from trellis.domains.privacy.schemas import (
    CleanupRequest,
    CleanupRunRead,
    ConsentChange,
    ConsentHistory,
    ErasureResult,
    PolicyName,
    RetentionPolicyRead,
    RetentionPolicyUpdate,
    SuppressionLift,
    SuppressionLifted,
)
from trellis.domains.privacy.service import privacy_service

router = APIRouter(prefix=API_PREFIX, tags=["privacy"])

ZIP_MEDIA_TYPE = "application/zip"


@router.get(
    "/privacy/retention",
    response_model=list[RetentionPolicyRead],
    summary="The retention policies as they apply now, with their defaults and last run",
)
async def list_retention_policies(
    actor: ActorDep, session: SessionDep
) -> list[RetentionPolicyRead]:
    return await privacy_service.policies(session, actor=actor)


@router.patch(
    "/privacy/retention/{name}",
    response_model=RetentionPolicyRead,
    summary="Change a retention policy's switch, period or mode",
)
async def update_retention_policy(
    name: PolicyName,
    body: RetentionPolicyUpdate,
    actor: ActorDep,
    session: SessionDep,
    now: NowDep,
) -> RetentionPolicyRead:
    return await privacy_service.update_policy(session, name, body, actor=actor, now=now)


@router.post(
    "/privacy/cleanup",
    response_model=list[CleanupRunRead],
    status_code=status.HTTP_202_ACCEPTED,
    summary="Run retention policies now (a dry run answers at once with the counts)",
)
async def run_cleanup(
    body: CleanupRequest, actor: ActorDep, session: SessionDep, now: NowDep
) -> list[CleanupRunRead]:
    if body.dry_run:
        return await privacy_service.dry_run(
            session, names=body.policies, trigger="api", actor=actor, now=now
        )
    return await privacy_service.queue_cleanup(
        session, names=body.policies, dry_run=False, trigger="api", actor=actor, now=now
    )


@router.get(
    "/privacy/cleanup/runs",
    response_model=ListResponse[CleanupRunRead],
    summary="Clean-up runs, newest first",
)
async def list_cleanup_runs(
    actor: ActorDep,
    session: SessionDep,
    page: Annotated[PageRequest, Depends(page_request)],
    policy: Annotated[PolicyName | None, Query(description="Only this policy's runs")] = None,
) -> ListResponse[CleanupRunRead]:
    runs, total = await privacy_service.runs(session, actor=actor, policy=policy, page=page)
    return list_response(Page(runs, total, page.number, page.size), lambda run: run)


@router.post(
    "/privacy/suppressions/lift",
    response_model=SuppressionLifted,
    summary="An erased person opted in again: take their address off the suppression list",
)
async def lift_suppression(
    body: SuppressionLift, actor: ActorDep, session: SessionDep, now: NowDep
) -> SuppressionLifted:
    lifted = await privacy_service.lift_by_request(session, body.email, actor=actor, now=now)
    return SuppressionLifted(lifted=lifted)


@router.get(
    "/contacts/{contact_id}/personal-data",
    response_class=Response,
    responses={200: {"content": {ZIP_MEDIA_TYPE: {}}}},
    summary="Everything held about the contact, as a ZIP of JSON files and an HTML summary",
)
async def export_personal_data(
    contact_id: IdPath, actor: ActorDep, session: WritingSessionDep, now: NowDep
) -> Response:
    filename, body = await privacy_service.export(session, contact_id, actor=actor, now=now)
    return Response(
        content=body,
        media_type=ZIP_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post(
    "/contacts/{contact_id}/erase",
    response_model=ErasureResult,
    summary="Erase the contact on request: every trace removed, the address suppressed",
)
async def erase_contact(
    contact_id: IdPath, actor: ActorDep, session: SessionDep, now: NowDep
) -> ErasureResult:
    return await privacy_service.erase(session, contact_id, actor=actor, now=now)


@router.get(
    "/contacts/{contact_id}/consents",
    response_model=ConsentHistory,
    summary="The contact's consents given and withdrawn, newest first",
)
async def consent_history(
    contact_id: IdPath,
    actor: ActorDep,
    session: SessionDep,
    page: Annotated[PageRequest, Depends(page_request)],
) -> ConsentHistory:
    return await privacy_service.history(session, contact_id, actor=actor, page=page)


@router.post(
    "/contacts/{contact_id}/consents",
    response_model=ConsentHistory,
    status_code=status.HTTP_201_CREATED,
    summary="Record consents given or withdrawn",
)
async def record_consents(
    contact_id: IdPath,
    body: list[ConsentChange],
    actor: ActorDep,
    session: SessionDep,
    now: NowDep,
) -> ConsentHistory:
    return await privacy_service.record_consents(session, contact_id, body, actor=actor, now=now)
