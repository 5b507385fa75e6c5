from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from trellis import json_limits
from trellis.api.deps import ActorDep, NowDep, SessionDep, WritingSessionDep
from trellis.api.params import IdPath
from trellis.api.routing import API_PREFIX
from trellis.domains.portability import manifest as manifest_format
from trellis.domains.portability.schemas import (
    CampaignImportRead,
    ExportRequest,
    ImportAnalysis,
    ImportResult,
)
from trellis.domains.portability.service import portability_service
from trellis.errors import FieldError, PayloadTooLarge, ValidationFailed

router = APIRouter(prefix=API_PREFIX, tags=["campaign export and import"])

ZIP_MEDIA_TYPE = "application/zip"
CHOICES_HELP = (
    'JSON object {"<entity uuid>": "create" | "update" | "copy" | "reuse"}; entities left out '
    "take the default of the analysis."
)


def _zip_response(body: bytes, filename: str) -> Response:
    return Response(
        content=body,
        media_type=ZIP_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/campaigns/{campaign_id}/export",
    response_class=Response,
    responses={200: {"content": {ZIP_MEDIA_TYPE: {}}}},
    summary="Export a campaign with everything it needs as a ZIP",
)
async def export_campaign(
    campaign_id: IdPath, actor: ActorDep, session: WritingSessionDep, now: NowDep
) -> Response:
    _, body = await portability_service.export(session, [campaign_id], actor=actor, now=now)
    return _zip_response(body, f"campaign-{campaign_id}.zip")


@router.post(
    "/campaigns/export",
    response_class=Response,
    responses={200: {"content": {ZIP_MEDIA_TYPE: {}}}},
    summary="Export several campaigns with everything they need as one ZIP",
)
async def export_campaigns(
    body: ExportRequest, actor: ActorDep, session: SessionDep, now: NowDep
) -> Response:
    _, data = await portability_service.export(session, body.campaign_ids, actor=actor, now=now)
    return _zip_response(data, "campaigns.zip")


async def _read_upload(file: UploadFile) -> bytes:
    limit = manifest_format.MAX_UPLOAD_BYTES
    data = await run_in_threadpool(file.file.read, limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"The file is larger than {limit} bytes.")
    return bytes(data)


def _choices(raw: str) -> dict[str, Any]:
    try:
        value = json_limits.loads(raw or "{}")
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict) or not all(
        v in ("create", "update", "copy", "reuse") for v in value.values()
    ):
        raise ValidationFailed(
            "choices must be a JSON object of entity uuid to create, update, copy or reuse.",
            [FieldError("", "Not a valid choices object.", "invalid", parameter="choices")],
        )
    return value


@router.post(
    "/campaigns/import",
    response_model=ImportAnalysis | ImportResult,
    summary="Analyse (nothing written) or apply an export file",
)
async def import_campaigns(
    file: Annotated[
        UploadFile,
        File(
            description="The export ZIP: ours, or a Mautic 7 campaign export (entity_data.json "
            "and its assets folder, or the bare entity_data.json), translated on the way in."
        ),
    ],
    actor: ActorDep,
    session: SessionDep,
    now: NowDep,
    mode: Annotated[Literal["analyse", "apply"], Query()] = "analyse",
    choices: Annotated[str, Form(description=CHOICES_HELP)] = "{}",
) -> ImportAnalysis | ImportResult:
    chosen = _choices(choices)
    archive = manifest_format.read_archive(await _read_upload(file))
    if mode == "analyse":
        return await portability_service.analyse(session, archive, actor=actor)
    return await portability_service.apply(
        session,
        archive,
        choices=chosen,
        filename=file.filename or "campaigns.zip",
        actor=actor,
        now=now,
    )


@router.get("/campaigns/imports/{import_id}", response_model=CampaignImportRead)
async def get_import(import_id: IdPath, actor: ActorDep, session: SessionDep) -> CampaignImportRead:
    return await portability_service.get_import(session, import_id, actor=actor)


@router.post(
    "/campaigns/imports/{import_id}/undo",
    response_model=CampaignImportRead,
    summary="Delete what an import created, while none of it has been used",
)
async def undo_import(
    import_id: IdPath, actor: ActorDep, session: SessionDep, now: NowDep
) -> CampaignImportRead:
    return await portability_service.undo(session, import_id, actor=actor, now=now)
