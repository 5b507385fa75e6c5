"""The public form routes under ``/f/`` (no sign-in; hostile input).

- ``GET /f/{alias}``: the form on a plain hosted page (bundled CSS, no script, nothing from
  another host);
- ``GET /f/{alias}.js``: the embed script, which writes the form where it is included and
  posts it with ``fetch``;
- ``POST /f/{alias}``: a submission, urlencoded or multipart (a plain form: 303 to the
  thank-you page or the stored redirect) or JSON (200 ``{"ok": true, ...}`` or a 422 problem with
  ``/fields/<name>`` pointers);
- ``GET /f/{alias}/thanks``: the thank-you page of a plain post.

Every request is rate-limited per IP address and bounded in size. A post that carries an
``Origin`` header must come from one of the form's allowed origins or from this server. A
filled honeypot gets the normal answer and nothing is stored. Every value is escaped where it is
shown (Jinja autoescape), and the only redirect ever sent is the form's stored one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from trellis import json_limits
from trellis.api.deps import SessionDep
from trellis.api.form_bodies import (
    MULTIPART,
    URLENCODED,
    FormBodyError,
    media_type,
    parse_form,
    read_bounded,
)
from trellis.api.problems import problem_response
from trellis.api.ratelimit import RateLimiter
from trellis.db.models import Form
from trellis.domains.forms.batching import SubmissionBatcher
from trellis.domains.forms.render import (
    HONEYPOT,
    PAGE_TEMPLATE,
    SCRIPT_TEMPLATE,
    STYLESHEET,
    THANKS_TEMPLATE,
    render_form,
)
from trellis.domains.forms.service import THANKS, form_service, replace_tokens
from trellis.domains.forms.submission import PAGE_URL
from trellis.errors import DomainError, FieldError, ValidationFailed

MAX_BODY_BYTES = 64 * 1024
MAX_INPUTS = 300
NO_STORE = {"Cache-Control": "no-store, private"}
# The website-tracking visitor id the embed script sends along.
VISITOR = "_visitor"

public_router = APIRouter(prefix="/f", include_in_schema=False)


def _page(title: str, body: str) -> str:
    from markupsafe import Markup

    return PAGE_TEMPLATE.render(title=title, body=Markup(body))  # noqa: S704 (rendered escaped)


async def _limit(request: Request) -> Response | None:
    limiter: RateLimiter = request.app.state.forms_limiter
    if await limiter.allow(request.client.host if request.client else "-"):
        return None
    return problem_response(
        429,
        detail="Too many submissions from this address; try again shortly.",
        headers={"Retry-After": "10", **_cors(request)},
    )


def _origin_allowed(request: Request, form: Form) -> bool:
    origin = request.headers.get("origin")
    if origin is None:
        return True
    if origin == "null":
        # A sandboxed document (this server's landing pages are) has an opaque origin.
        return form_service.from_landing_page(form, request.query_params.get("lp"))
    parts = urlsplit(form_service.base_url)
    own = f"{parts.scheme}://{parts.netloc}".lower()
    return origin.lower() == own or origin.lower() in form.allowed_origins


def _cors(request: Request, form: Form | None = None) -> dict[str, str]:
    origin = request.headers.get("origin")
    if origin is None or form is None or not _origin_allowed(request, form):
        return {}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


def _wants_json(request: Request) -> bool:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return kind == "application/json" or "application/json" in request.headers.get("accept", "")


def _not_found() -> HTMLResponse:
    return HTMLResponse(
        _page("Not found", "<p>This form does not exist or is not published.</p>"),
        status_code=404,
        headers=NO_STORE,
    )


async def _posted(request: Request, body: bytes) -> dict[str, list[str]]:
    """The posted inputs as lists of strings, whatever the encoding; no NUL characters
    (no database column can hold them)."""
    posted = await _decode(request, body)
    if any("\x00" in value for values in posted.values() for value in values):
        raise FormBodyError(400, "The submission contains NUL characters.")
    return posted


async def _decode(request: Request, body: bytes) -> dict[str, list[str]]:
    kind = media_type(request)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise FormBodyError(400, "The submission is not valid UTF-8.") from None
    if "\x00" in text:
        raise FormBodyError(400, "The submission contains NUL characters.")
    if kind == "application/json":
        try:
            data = json_limits.loads(text) if text else {}
        except ValueError:
            raise FormBodyError(400, "The request body is not valid JSON.") from None
        if isinstance(data, dict) and isinstance(data.get("fields"), dict):
            data = {**data["fields"], **{k: v for k, v in data.items() if k != "fields"}}
        if not isinstance(data, dict) or len(data) > MAX_INPUTS:
            raise FormBodyError(400, "Send a JSON object of input names and values.")
        out: dict[str, list[str]] = {}
        for key, value in data.items():
            items = value if isinstance(value, list) else [value]
            if len(items) > MAX_INPUTS:
                raise FormBodyError(400, "Too many values.")
            out[str(key)] = [
                ("1" if v else "") if isinstance(v, bool) else ("" if v is None else str(v))
                for v in items
                if not isinstance(v, dict | list)
            ]
        return out
    if kind in (URLENCODED, "", MULTIPART):
        return await parse_form(request, body, max_fields=MAX_INPUTS)
    raise FormBodyError(415, "Send the form urlencoded, as multipart/form-data or as JSON.")


@public_router.get("/forms.css")
async def stylesheet() -> Response:
    return Response(
        STYLESHEET, media_type="text/css", headers={"Cache-Control": "public, max-age=86400"}
    )


@public_router.get("/{alias}.js")
async def embed_script(request: Request, alias: str, session: SessionDep) -> Response:
    if (limited := await _limit(request)) is not None:
        return limited
    form = await form_service.published(session, alias)
    if form is None:
        return Response(
            "/* form not found */", status_code=404, media_type="text/javascript", headers=NO_STORE
        )
    url = form_service.url(form)

    def literal(value: str) -> str:
        # JSON is a JS literal; "</" is broken up so that no string can end a <script> block.
        return json.dumps(value).replace("</", "<\\/")

    script = SCRIPT_TEMPLATE % {
        "html": literal(render_form(form, action=url)),
        "url": literal(url),
        "page": PAGE_URL,
    }
    return Response(
        script,
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=300"},
    )


@public_router.get("/{alias}")
async def hosted_page(request: Request, alias: str, session: SessionDep) -> Response:
    if (limited := await _limit(request)) is not None:
        return limited
    form = await form_service.published(session, alias)
    if form is None:
        return _not_found()
    return HTMLResponse(
        _page(form.name, render_form(form, action=form_service.url(form))),
        headers={**NO_STORE, "Content-Security-Policy": _page_csp(form)},
    )


@public_router.get("/{alias}/thanks")
async def thanks_page(request: Request, alias: str, session: SessionDep) -> Response:
    if (limited := await _limit(request)) is not None:
        return limited
    form = await form_service.published(session, alias)
    if form is None:
        return _not_found()
    values = await form_service.thanks_values(session, form, request.query_params.get("s", "")[:64])
    message = replace_tokens(form.success.get("message") or "Thank you!", values)
    return HTMLResponse(_page(form.name, THANKS_TEMPLATE.render(message=message)), headers=NO_STORE)


def _page_csp(form: Form) -> str:
    targets = ["'self'"]
    redirect = form.success.get("redirect_url")
    if form.success.get("kind") == "redirect" and redirect:
        parts = urlsplit(redirect)
        targets.append(f"{parts.scheme}://{parts.netloc}")
    return (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        f"script-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
        f"form-action {' '.join(targets)}"
    )


@public_router.options("/{alias}")
async def preflight(request: Request, alias: str, session: SessionDep) -> Response:
    form = await form_service.published(session, alias)
    if form is None or not _cors(request, form):
        return Response(status_code=403, headers={"Vary": "Origin"})
    return Response(
        status_code=204,
        headers={
            **_cors(request, form),
            "Access-Control-Allow-Methods": "POST",
            "Access-Control-Allow-Headers": "Content-Type, Accept",
            "Access-Control-Max-Age": "600",
        },
    )


async def submit(request: Request) -> Response:
    """``POST /f/{alias}``: a plain Starlette route (see the registration below)."""
    if (limited := await _limit(request)) is not None:
        return limited
    alias: str = request.path_params["alias"]
    as_json = _wants_json(request)
    batcher: SubmissionBatcher = request.app.state.form_batcher
    form = await batcher.form(alias) if re.fullmatch(r"[a-z0-9-]{1,60}", alias) else None
    if form is None:
        if as_json:
            return problem_response(404, detail="No published form has this address.")
        return _not_found()
    cors = _cors(request, form)
    if not _origin_allowed(request, form):
        return problem_response(
            403,
            detail="This form does not accept submissions from this site.",
            headers={"Vary": "Origin"},
        )
    try:
        posted = await _posted(request, await read_bounded(request, MAX_BODY_BYTES))
    except FormBodyError as exc:
        return problem_response(exc.status, detail=exc.detail, headers=cors)
    success = form.success
    redirect_url = success.get("redirect_url") if success.get("kind") == "redirect" else None
    if (posted.get(HONEYPOT) or [""])[0].strip():
        # A bot: the normal answer, nothing stored, nothing said.
        message = replace_tokens(success.get("message") or "Thank you!", {})
        return _answer(request, form, as_json, cors, message, redirect_url, token="")
    try:
        submission = form_service.check(
            form,
            await batcher.catalog(),
            posted,
            ip=request.client.host if request.client else None,
            user_agent=request.headers.get("user-agent", ""),
        )
    except ValidationFailed as exc:
        if as_json:
            return problem_response(
                422, detail=exc.detail, errors=exc.errors, headers=cors, type_slug="validation"
            )
        return _error_page(form, posted, exc.errors)
    try:
        submission_id = await batcher.submit(form, submission)
    except DomainError as exc:
        if as_json or exc.status_code != 422:
            errors = exc.errors if isinstance(exc, ValidationFailed) else ()
            return problem_response(exc.status_code, detail=exc.detail, errors=errors, headers=cors)
        return _error_page(form, posted, exc.errors if isinstance(exc, ValidationFailed) else [])
    _identify(request, posted, submission_id)
    message = replace_tokens(success.get("message") or "Thank you!", submission.values)
    # Only a plain post is sent to the thank-you page, which the signed token opens.
    token = "" if as_json else form_service.signer.token("w", submission_id, THANKS)
    return _answer(request, form, as_json, cors, message, redirect_url, token=token)


# The busiest public route, added as a plain Starlette route: FastAPI's per-request
# dependency resolution and response handling cost more than this endpoint needs (it reads
# its own body and answers with ready responses), as for the tracking pixel and redirect.
public_router.add_route("/f/{alias}", submit, methods=["POST"], include_in_schema=False)


class VisitorIdentification(Protocol):
    """Website tracking, as the forms see it (wired by the application)."""

    def identify(self, visitor: str, submission_id: int, at: datetime) -> None: ...


def _identify(request: Request, posted: Mapping[str, list[str]], submission_id: int) -> None:
    """The website-tracking visitor that sent the form (``_visitor``, from the embed script)
    becomes the submission's contact, with the next batch of page hits."""
    visitor = (posted.get(VISITOR) or [""])[0]
    if not visitor:
        return
    tracking: VisitorIdentification = request.app.state.web_hits
    clock: Any = request.app.state.clock
    tracking.identify(visitor, submission_id, clock.now())


def _answer(
    request: Request,
    form: Form,
    as_json: bool,
    cors: dict[str, str],
    message: str,
    redirect_url: str | None,
    *,
    token: str,
) -> Response:
    if as_json:
        # The shape of SubmitResult, serialised directly: a model per answer costs more than
        # the three keys it holds.
        body = {
            "ok": True,
            "message": None if redirect_url else message,
            "redirect_url": redirect_url,
        }
        return Response(
            json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(),
            media_type="application/json",
            headers={**cors, **NO_STORE} if cors else NO_STORE,
        )
    target = redirect_url or f"/f/{form.alias}/thanks" + (f"?s={token}" if token else "")
    return RedirectResponse(target, status_code=303, headers=NO_STORE)


def _error_page(form: Form, posted: Mapping[str, list[str]], errors: list[FieldError]) -> Response:
    by_name: dict[str, str] = {}
    for error in errors:
        name = error.pointer.removeprefix("/fields/")
        by_name.setdefault(name, error.detail)
    values: dict[str, Any] = {}
    for item in form.fields:
        given = posted.get(item["name"])
        if given is None:
            continue
        values[item["name"]] = given if item["type"] == "checkbox_group" else given[0]
    html = render_form(form, action=form_service.url(form), values=values, errors=by_name)
    return HTMLResponse(
        _page(form.name, html),
        status_code=422,
        headers={**NO_STORE, "Content-Security-Policy": _page_csp(form)},
    )
