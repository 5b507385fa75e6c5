"""The public download route ``/a/{uuid-or-slug}`` (no sign-in; hostile input).

- ``GET /a/{key}``: streams the file as an attachment (``nosniff``, a sandboxing CSP, no
  caching) and records the download; a signed ``ct`` parameter makes it the contact's, which
  also offers it to the contact's waiting ``asset.download`` decisions.
- A gated asset (one naming a published form) answers ``GET`` with the form instead; the form
  posts to ``POST /a/{key}``, which accepts the submission exactly as the form's own endpoint
  does (same checks, same contact upsert, actions and campaigns) and redirects to a signed,
  expiring download link ``/a/{key}?dl=...``. A forged, altered or expired link is a 404.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from markupsafe import Markup

from trellis.api.deps import NowDep, SessionDep
from trellis.api.ratelimit import RateLimiter
from trellis.db.models import Asset, Form
from trellis.db.session import Database
from trellis.domains.assets.service import asset_service
from trellis.domains.forms.batching import SubmissionBatcher
from trellis.domains.forms.render import HONEYPOT, PAGE_TEMPLATE, render_form
from trellis.domains.forms.service import form_service
from trellis.errors import DomainError, FieldError, ValidationFailed

public_router = APIRouter(prefix="/a", include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store, private"}
MAX_FORM_BYTES = 64 * 1024
MAX_INPUTS = 300
GATE_CSP = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "script-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


async def _limited(request: Request) -> Response | None:
    limiter: RateLimiter = request.app.state.assets_limiter
    if await limiter.allow(_ip(request) or "-"):
        return None
    return Response("Too many requests.", status_code=429, headers={"Retry-After": "10"})


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = PAGE_TEMPLATE.render(title=title, body=Markup(body))  # noqa: S704 (rendered escaped)
    return HTMLResponse(
        html, status_code=status, headers={**NO_STORE, "Content-Security-Policy": GATE_CSP}
    )


def _not_found() -> HTMLResponse:
    return _page("Not found", "<p>This file does not exist or is no longer offered.</p>", 404)


def _gate_page(
    asset: Asset,
    form: Form,
    key: str,
    *,
    values: Mapping[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    body = render_form(form, action=f"/a/{key}", values=values, errors=errors)
    return _page(asset.name, body, status)


def _file(asset: Asset) -> FileResponse:
    return FileResponse(
        asset_service.path(asset),
        media_type=asset.content_type,
        filename=asset.filename,
        content_disposition_type="attachment",
        headers={
            **NO_STORE,
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


@public_router.get("/{key}")
async def download(request: Request, key: str, session: SessionDep, now: NowDep) -> Response:
    if (limited := await _limited(request)) is not None:
        return limited
    asset = await asset_service.published(session, key)
    if asset is None:
        return _not_found()
    links = asset_service.links
    contact_id = links.contact_of(request.query_params.get("ct"))
    token = request.query_params.get("dl")
    form = await asset_service.gate_form(session, asset)
    if token is not None:
        grant = links.grant(token, asset_id=asset.id, now=now)
        if grant is None:
            return _not_found()
        contact_id = grant.contact_id or contact_id
    elif form is not None:
        return _gate_page(asset, form, key)
    contact_id = await asset_service.known_contact(session, contact_id)
    await asset_service.record_download(
        session, asset, contact_id=contact_id, ip=_ip(request), now=now
    )
    return _file(asset)


@public_router.post("/{key}")
async def gate_submit(request: Request, key: str, now: NowDep) -> Response:
    # No request session: the submission is written by the form batcher's own transaction,
    # which an open request transaction would block on SQLite.
    if (limited := await _limited(request)) is not None:
        return limited
    database: Database = request.app.state.database
    async with database.unit_of_work(read_only=True) as reading:
        asset = await asset_service.published(reading, key)
        form = await asset_service.gate_form(reading, asset) if asset is not None else None
    if asset is None or form is None:
        return _not_found()
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    if kind not in ("application/x-www-form-urlencoded", "") or len(body) > MAX_FORM_BYTES:
        return _page(asset.name, "<p>Send the form as a plain form post.</p>", 415)
    try:
        posted = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_INPUTS)
    except (UnicodeDecodeError, ValueError):
        return _page(asset.name, "<p>The form could not be read.</p>", 400)
    if any("\x00" in v for values in posted.values() for v in values):
        return _page(asset.name, "<p>The form could not be read.</p>", 400)
    if (posted.get(HONEYPOT) or [""])[0].strip():
        # A bot: it gets a link that works for nobody, and nothing is stored.
        return RedirectResponse(f"/a/{key}?dl=0.0.0.x", status_code=303, headers=NO_STORE)
    batcher: SubmissionBatcher = request.app.state.form_batcher
    try:
        submission = form_service.check(
            form,
            await batcher.catalog(),
            posted,
            ip=_ip(request),
            user_agent=request.headers.get("user-agent", ""),
        )
        submission_id = await batcher.submit(form, submission)
    except DomainError as exc:
        errors = exc.errors if isinstance(exc, ValidationFailed) else [FieldError("", exc.detail)]
        by_name: dict[str, str] = {}
        for error in errors:
            by_name.setdefault(error.pointer.removeprefix("/fields/"), error.detail)
        values = {
            item["name"]: posted[item["name"]]
            if item["type"] == "checkbox_group"
            else posted[item["name"]][0]
            for item in form.fields
            if item["name"] in posted
        }
        return _gate_page(asset, form, key, values=values, errors=by_name, status=422)
    async with database.unit_of_work(read_only=True) as reading:
        contact_id = await form_service.submission_contact(reading, submission_id)
    url = asset_service.download_url(asset, contact_id, now)
    return RedirectResponse(url, status_code=303, headers=NO_STORE)
