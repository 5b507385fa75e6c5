"""The public landing-page route ``GET /p/{slug}`` (no sign-in).

An anonymous render is the same for everyone: ``Cache-Control: public, max-age=60`` and an
ETag that changes with the page's content (a matching ``If-None-Match`` gets 304). A visitor
with a signed ``ct`` link sees its own fields and gets a private, uncached answer. Unpublished
or unknown pages are 404; a page whose template fails (a sandbox bound) is a neutral 500.
Every answer carries a strict Content-Security-Policy: only the tracking script, connections and
form posts only to this server, nothing framed, nothing from another host, and ``sandbox``
(an opaque origin: the page cannot act with a signed-in administrator's session).
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from trellis.api.deps import NowDep, SessionDep
from trellis.api.ratelimit import RateLimiter
from trellis.domains.landing_pages.render import PageRenderFailed, content_security_policy
from trellis.domains.landing_pages.service import TRACKING_SCRIPT, page_service

log = logging.getLogger(__name__)
public_router = APIRouter(prefix="/p", include_in_schema=False)
NOT_FOUND = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Not found</title></head>'
    "<body><p>This page does not exist or is not published.</p></body></html>"
)
FAILED = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Unavailable</title>'
    "</head><body><p>This page cannot be shown right now.</p></body></html>"
)


@public_router.get("/{slug}")
async def landing_page(request: Request, slug: str, session: SessionDep, now: NowDep) -> Response:
    limiter: RateLimiter = request.app.state.assets_limiter
    if not await limiter.allow(request.client.host if request.client else "-"):
        return Response("Too many requests.", status_code=429, headers={"Retry-After": "10"})
    csp = content_security_policy(page_service.base_url, TRACKING_SCRIPT)
    try:
        served = await page_service.serve(
            session, slug, contact_token=request.query_params.get("ct"), now=now
        )
    except PageRenderFailed as exc:
        log.warning("landing page does not render", extra={"slug": slug, "error": str(exc)})
        return HTMLResponse(
            FAILED,
            status_code=500,
            headers={"Cache-Control": "no-store", "Content-Security-Policy": csp},
        )
    if served is None:
        return HTMLResponse(
            NOT_FOUND,
            status_code=404,
            headers={"Cache-Control": "no-store", "Content-Security-Policy": csp},
        )
    headers = {"Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff"}
    if served.known:
        headers["Cache-Control"] = "private, no-store"
        return HTMLResponse(served.html, headers=headers)
    headers["Cache-Control"] = "public, max-age=60"
    headers["ETag"] = served.etag
    wanted = [t.strip() for t in request.headers.get("if-none-match", "").split(",")]
    if served.etag in wanted or f"W/{served.etag}" in wanted:
        return Response(status_code=304, headers=headers)
    return HTMLResponse(served.html, headers=headers)
