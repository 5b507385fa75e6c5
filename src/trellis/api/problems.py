"""RFC 9457 problem details for every error the API returns."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from trellis.errors import DomainError, FieldError, json_pointer

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://trellis.dev/problems/"

_HTTP_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Permission denied",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Validation failed",
    428: "Precondition required",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def problem_response(
    status: int,
    *,
    detail: str,
    title: str | None = None,
    type_slug: str | None = None,
    errors: Sequence[FieldError] = (),
    headers: dict[str, str] | None = None,
    instance: str | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    slug = type_slug or (title or _HTTP_TITLES.get(status, "error")).lower().replace(" ", "-")
    body: dict[str, Any] = {
        "type": TYPE_BASE + slug,
        "title": title or _HTTP_TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = [e.as_dict() for e in errors]
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


_PYDANTIC_MESSAGES = {
    "extra_forbidden": "Unknown field.",
    "missing": "This field is required.",
}


def _validation_field_errors(exc: RequestValidationError) -> tuple[list[FieldError], bool]:
    """Translate FastAPI's error list; the flag tells whether the body was not JSON at all."""
    errors: list[FieldError] = []
    malformed = False
    for err in exc.errors():
        loc = list(err.get("loc", ()))
        kind = err.get("type", "invalid")
        if kind == "json_invalid":
            malformed = True
            position = err.get("ctx", {}).get("error", "")
            errors.append(
                FieldError("", f"Malformed JSON: {position}".rstrip(": "), "json_invalid")
            )
            continue
        message = _PYDANTIC_MESSAGES.get(kind) or str(err.get("msg", "Invalid value."))
        where = loc[0] if loc else "body"
        rest = [p for p in loc[1:] if p is not None]
        if where == "body":
            # FastAPI adds the model's name for a single embedded body; drop what is not a key.
            errors.append(FieldError(json_pointer(*rest), message, kind))
        else:
            name = ".".join(str(p) for p in rest) or str(where)
            errors.append(FieldError("", message, kind, parameter=name))
    return errors, malformed


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return problem_response(
        exc.status_code,
        detail=exc.detail,
        title=exc.title,
        type_slug=exc.type_slug,
        errors=exc.errors,
        headers=exc.headers or None,
        instance=request.url.path,
        extra=exc.extra or None,
    )


async def _request_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors, malformed = _validation_field_errors(exc)
    if malformed:
        return problem_response(
            400,
            detail="The request body is not valid JSON.",
            type_slug="malformed-json",
            errors=errors,
            instance=request.url.path,
        )
    return problem_response(
        422,
        detail="The request has invalid fields; see errors.",
        type_slug="validation-failed",
        errors=errors,
        instance=request.url.path,
    )


async def _http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else _HTTP_TITLES.get(exc.status_code, "")
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"No API endpoint at {request.url.path}."
    elif exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}."
    return problem_response(
        exc.status_code,
        detail=detail,
        headers=dict(exc.headers) if exc.headers else None,
        instance=request.url.path,
    )


async def _integrity_error(request: Request, exc: Exception) -> JSONResponse:
    log.info("integrity error", extra={"path": request.url.path, "error": str(exc.args[:1])})
    return problem_response(
        409,
        detail="The change conflicts with existing data (a duplicate or a missing reference).",
        instance=request.url.path,
    )


async def _operational_error(request: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable", extra={"path": request.url.path, "error": str(exc)})
    return problem_response(
        503,
        detail="The database is busy or unavailable; try again.",
        headers={"Retry-After": "1"},
        instance=request.url.path,
    )


async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", extra={"path": request.url.path})
    return problem_response(
        500, detail="An unexpected error occurred; it has been logged.", instance=request.url.path
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(OperationalError, _operational_error)
    app.add_exception_handler(Exception, _unhandled)
