from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import IO, Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import FileResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from trellis import json_limits
from trellis.api.deps import ActorDep, NowDep, SessionDep, SettingsDep
from trellis.api.pagination import ListResponse, list_response, page_request
from trellis.api.params import IdPath
from trellis.api.routing import API_PREFIX
from trellis.db.pagination import PageRequest
from trellis.domains.imports import tasks as _tasks  # noqa: F401  (registers the job)
from trellis.domains.imports.schemas import ImportOptions, ImportPreview, ImportRead
from trellis.domains.imports.service import import_service, to_read
from trellis.errors import FieldError, ValidationFailed, json_pointer
from trellis.files import open_private, private_dir

router = APIRouter(prefix=API_PREFIX, tags=["imports"])
PageDep = Annotated[PageRequest, Depends(page_request)]
PREVIEW_BYTES = 1024 * 1024
CHUNK = 1024 * 1024

OPTIONS_HELP = (
    "JSON of the import options: mapping (CSV header -> field alias, or null to skip), "
    "delimiter, encoding, tags, segment_id, owner_id. All optional."
)


def _options(raw: str) -> ImportOptions:
    try:
        json_limits.check_depth(raw)
        return ImportOptions.model_validate_json(raw or "{}")
    except ValidationError as exc:
        errors = [
            FieldError(
                json_pointer("options", *[str(p) for p in e["loc"]]), e["msg"], "invalid_option"
            )
            for e in exc.errors()
        ]
        raise ValidationFailed("The import options are invalid.", errors) from None
    except json.JSONDecodeError:  # too deep: pydantic reports other bad JSON itself
        raise ValidationFailed(
            "The import options are not JSON.", [FieldError("/options", "Not JSON.")]
        ) from None


def _copy(source: IO[bytes], target: Path, limit: int | None) -> int:
    """Copy an upload to ``target`` in chunks; with ``limit``, stop near it at a line end."""
    written = 0
    with open_private(target) as handle:
        while True:
            chunk = source.read(CHUNK)
            if not chunk:
                break
            if limit is not None and written + len(chunk) >= limit:
                chunk = chunk[: limit - written]
                cut = chunk.rfind(b"\n")
                handle.write(chunk[: cut + 1] if cut >= 0 else chunk)
                written += len(chunk)
                break
            handle.write(chunk)
            written += len(chunk)
    return written


@router.post(
    "/imports",
    response_model=ImportRead,
    status_code=202,
    summary="Upload a CSV of contacts and import it in the background",
)
async def create_import(
    file: Annotated[UploadFile, File(description="The CSV file.")],
    actor: ActorDep,
    session: SessionDep,
    now: NowDep,
    settings: SettingsDep,
    options: Annotated[str, Form(description=OPTIONS_HELP)] = "{}",
) -> ImportRead:
    import_service.check_can_import(actor)
    parsed = _options(options)
    folder = settings.uploads_dir / "imports" / uuid.uuid4().hex
    private_dir(folder)
    path = folder / "upload.csv"
    try:
        await run_in_threadpool(_copy, file.file, path, None)
        item, _ = await import_service.create(
            session,
            path=path,
            filename=file.filename or "upload.csv",
            options=parsed,
            errors_file=folder / "errors.csv",
            actor=actor,
            now=now,
            enqueue=True,
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return to_read(item)


@router.post(
    "/imports/preview",
    response_model=ImportPreview,
    summary="The detected format, the automatic mapping and the first rows of a CSV",
)
async def preview_import(
    file: Annotated[UploadFile, File(description="The CSV file, or its first megabyte.")],
    actor: ActorDep,
    session: SessionDep,
    settings: SettingsDep,
    options: Annotated[str, Form(description=OPTIONS_HELP)] = "{}",
) -> ImportPreview:
    import_service.check_can_import(actor)
    parsed = _options(options)
    folder = settings.uploads_dir / "imports" / f"preview-{uuid.uuid4().hex}"
    private_dir(folder)
    path = folder / "preview.csv"
    try:
        await run_in_threadpool(_copy, file.file, path, PREVIEW_BYTES)
        return await import_service.preview(session, path=path, options=parsed, actor=actor)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@router.get("/imports", response_model=ListResponse[ImportRead], summary="Imports, newest first")
async def list_imports(
    actor: ActorDep, session: SessionDep, page: PageDep
) -> ListResponse[ImportRead]:
    result = await import_service.list_page(session, actor=actor, page=page)
    return list_response(result, to_read)


@router.get(
    "/imports/{import_id}",
    response_model=ImportRead,
    summary="An import: status, progress, counts and the first errors",
)
async def get_import(import_id: IdPath, actor: ActorDep, session: SessionDep) -> ImportRead:
    return to_read(await import_service.get(session, import_id, actor=actor))


@router.get(
    "/imports/{import_id}/errors.csv",
    response_class=FileResponse,
    summary="Every error of an import: line, column, reason, value",
    responses={200: {"content": {"text/csv": {}}}},
)
async def import_errors(import_id: IdPath, actor: ActorDep, session: SessionDep) -> FileResponse:
    path = await import_service.errors_file(session, import_id, actor=actor)
    return FileResponse(path, media_type="text/csv", filename=f"import-{import_id}-errors.csv")
