"""The public tracking routes under ``/t/`` (no sign-in: the signed token is the credential)
and the API routes for statistics, categories and provider events.

The public routes face anyone on the internet: tokens are checked before anything is read,
every failure is the same neutral 404, sizes are bounded and each IP address is rate-limited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit, urlunsplit

from fastapi import APIRouter, Body, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from trellis.api.deps import ActorDep, NowDep, SessionDep
from trellis.api.form_bodies import FormBodyError, read_form
from trellis.api.params import IdPath
from trellis.api.ratelimit import RateLimiter
from trellis.api.routing import API_PREFIX
from trellis.clock import Clock
from trellis.domains.emails.links import CLICK_TOKEN_PARAM
from trellis.domains.tracking import recipient_pages
from trellis.domains.tracking.ingest import HitQueue
from trellis.domains.tracking.schemas import (
    MAX_EVENTS,
    CategoryRead,
    CategoryUpdate,
    EmailEventIn,
    EmailEventsResult,
    EmailStatsRead,
)
from trellis.domains.tracking.service import PIXEL_GIF, Hit, tracking_service
from trellis.errors import TooManyRequests
from trellis.runtime.group_commit import BufferFull

MAX_FORM_BYTES = 16 * 1024
MAX_FORM_FIELDS = 100
NO_STORE = {"Cache-Control": "no-store, private", "Pragma": "no-cache"}

public_router = APIRouter(prefix="/t", include_in_schema=False)
router = APIRouter(prefix=API_PREFIX, tags=["tracking"])


async def _limit(request: Request) -> None:
    limiter: RateLimiter = request.app.state.tracking_limiter
    if not await limiter.allow(request.client.host if request.client else "-"):
        raise TooManyRequests("Too many requests from this address; try again shortly.")


def _not_found() -> HTMLResponse:
    return HTMLResponse(recipient_pages.not_found(), status_code=404, headers=NO_STORE)


def _add(request: Request, hit: Hit) -> None:
    hits: HitQueue = request.app.state.tracking_hits
    try:
        hits.add(hit)
    except BufferFull:
        raise TooManyRequests("Tracking is busy; try again shortly.") from None


def _opts_out(request: Request) -> bool:
    return request.headers.get("dnt", "").strip() == "1" or (
        request.headers.get("sec-gpc", "").strip() == "1"
    )


async def _form(request: Request) -> dict[str, list[str]]:
    """A form, urlencoded or multipart (RFC 8058 one-click), bounded; anything else is an
    empty form."""
    try:
        return await read_form(request, max_bytes=MAX_FORM_BYTES, max_fields=MAX_FORM_FIELDS)
    except FormBodyError:
        return {}


@public_router.get("/pages.css")
async def stylesheet() -> Response:
    return Response(
        recipient_pages.STYLESHEET,
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=86400"},
    )


def _now(request: Request) -> datetime:
    # Read inline: a sync dependency would cost a trip through the thread pool per hit.
    clock: Clock = request.app.state.clock
    return clock.now()


# The pixel and the redirect are plain Starlette routes: nothing to validate beyond the token
# and the URL, and FastAPI's dependency solving would be most of the cost of a hit.


async def open_pixel(request: Request) -> Response:
    await _limit(request)
    send_id = tracking_service.verify("o", request.path_params["token"])
    if send_id is None:
        return _not_found()
    # DNT / GPC: the reader asked not to be tracked; the image still loads.
    if not _opts_out(request):
        _add(request, Hit("open", send_id, _now(request)))
    return Response(PIXEL_GIF, media_type="image/gif", headers=NO_STORE)


async def click(request: Request) -> Response:
    await _limit(request)
    max_length: int = request.app.state.settings.tracking.max_url_length
    url = request.query_params.get("u", "")
    if not url or len(url) > max_length:
        return _not_found()
    send_id = tracking_service.verify("c", request.path_params["token"], url)
    if send_id is None or urlsplit(url).scheme.lower() not in ("http", "https"):
        return _not_found()
    # An explicit click is honoured even with DNT / GPC (mautic/mautic#17187).
    _add(request, Hit("click", send_id, _now(request), url))
    return RedirectResponse(_with_contact_token(request, url, send_id), 302, headers=NO_STORE)


def _with_contact_token(request: Request, url: str, send_id: int) -> str:
    """The destination with a signed, short-lived ``trellis_ct`` naming the send, which the
    website tracking script posts with its next hit (to allowed origins only, when set)."""
    web = request.app.state.settings.web
    if not web.click_token or _opts_out(request):
        return url
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    if web.allowed_origins and origin not in {o.lower().rstrip("/") for o in web.allowed_origins}:
        return url
    param = f"{CLICK_TOKEN_PARAM}={tracking_service.click_tokens.issue(send_id)}"
    query = f"{parts.query}&{param}" if parts.query else param
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


# add_route takes the whole path: a router's prefix applies to its API routes only.
public_router.add_route("/t/open/{token}.gif", open_pixel, methods=["GET"], include_in_schema=False)
public_router.add_route("/t/click/{token}", click, methods=["GET"], include_in_schema=False)


@public_router.get("/view/{token}")
async def web_view(request: Request, token: str, session: SessionDep) -> Response:
    await _limit(request)
    send_id = tracking_service.verify("w", token)
    html = await tracking_service.web_view(session, send_id) if send_id is not None else None
    if html is None:
        return _not_found()
    return HTMLResponse(html, headers=NO_STORE)


@public_router.get("/unsubscribe/{token}")
async def unsubscribe_page(request: Request, token: str, session: SessionDep) -> Response:
    await _limit(request)
    send_id = tracking_service.verify("u", token)
    send = await tracking_service.send(session, send_id) if send_id is not None else None
    if send is None:
        return _not_found()
    # GET never unsubscribes: mail scanners follow every link.
    page = recipient_pages.unsubscribe_form(send.to_address, tracking_service.form_token(send.id))
    return HTMLResponse(page, headers=NO_STORE)


@public_router.post("/unsubscribe/{token}")
async def unsubscribe(request: Request, token: str, session: SessionDep, now: NowDep) -> Response:
    await _limit(request)
    send_id = tracking_service.verify("u", token)
    send = await tracking_service.send(session, send_id) if send_id is not None else None
    if send is None:
        return _not_found()
    form = await _form(request)
    one_click = form.get("List-Unsubscribe") == ["One-Click"]
    form_ok = tracking_service.check_form_token(send.id, (form.get("form_token") or [""])[0])
    # RFC 8058: the mail client posts "List-Unsubscribe=One-Click" to the signed URL; the page's
    # own form proves itself with its form token.
    if not one_click and not form_ok:
        return HTMLResponse(
            recipient_pages.unsubscribe_form(send.to_address, tracking_service.form_token(send.id)),
            status_code=400,
            headers=NO_STORE,
        )
    await tracking_service.unsubscribe(session, send, now)
    return HTMLResponse(
        recipient_pages.unsubscribe_form(send.to_address, "", done=True), headers=NO_STORE
    )


@public_router.get("/preferences/{token}")
async def preferences_page(request: Request, token: str, session: SessionDep) -> Response:
    await _limit(request)
    send_id = tracking_service.verify("p", token)
    send = await tracking_service.send(session, send_id) if send_id is not None else None
    if send is None:
        return _not_found()
    prefs = await tracking_service.preferences(session, send)
    page = recipient_pages.preferences_form(prefs, tracking_service.form_token(send.id))
    return HTMLResponse(page, headers=NO_STORE)


@public_router.post("/preferences/{token}")
async def save_preferences(
    request: Request, token: str, session: SessionDep, now: NowDep
) -> Response:
    await _limit(request)
    send_id = tracking_service.verify("p", token)
    send = await tracking_service.send(session, send_id) if send_id is not None else None
    if send is None:
        return _not_found()
    form = await _form(request)
    if not tracking_service.check_form_token(send.id, (form.get("form_token") or [""])[0]):
        prefs = await tracking_service.preferences(session, send)
        page = recipient_pages.preferences_form(prefs, tracking_service.form_token(send.id))
        return HTMLResponse(page, status_code=400, headers=NO_STORE)
    prefs = await tracking_service.save_preferences(
        session,
        send,
        subscribed=form.get("email") == ["1"],
        categories={c[:60] for c in form.get("category", [])},
        now=now,
    )
    page = recipient_pages.preferences_form(prefs, tracking_service.form_token(send.id), saved=True)
    return HTMLResponse(page, headers=NO_STORE)


# -- API v2 ------------------------------------------------------------------------------------


@router.get("/emails/{email_id}/stats", response_model=EmailStatsRead)
async def email_stats(email_id: IdPath, actor: ActorDep, session: SessionDep) -> EmailStatsRead:
    return await tracking_service.stats(session, email_id, actor=actor)


@router.get("/emails/{email_id}/category", response_model=CategoryRead)
async def email_category(email_id: IdPath, actor: ActorDep, session: SessionDep) -> CategoryRead:
    return await tracking_service.category(session, email_id, actor=actor)


@router.put("/emails/{email_id}/category", response_model=CategoryRead)
async def set_email_category(
    email_id: IdPath, body: CategoryUpdate, actor: ActorDep, session: SessionDep
) -> CategoryRead:
    return await tracking_service.set_category(session, email_id, body.category, actor=actor)


@router.post("/email-events", response_model=EmailEventsResult)
async def email_events(
    events: Annotated[list[EmailEventIn], Body(max_length=MAX_EVENTS)],
    actor: ActorDep,
    session: SessionDep,
    now: NowDep,
) -> EmailEventsResult:
    """Deliveries, bounces and complaints from a mail provider's webhook (at most 1,000 events
    a request). Hard bounces and complaints put the contact on Do Not Contact for email."""
    return await tracking_service.ingest_events(session, events, actor=actor, now=now)
