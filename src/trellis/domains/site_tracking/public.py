"""The public website-tracking routes (no sign-in; hostile input):

- ``GET /t/w.js``: the tracking script (static, cacheable, with an ETag);
- ``POST /t/hit``: one page hit, a JSON object sent as ``text/plain`` (``navigator.sendBeacon``)
  or ``application/json``: ``{"v": visitor id, "u": URL, "t": title, "r": referrer,
  "s": site, "d": device, "ct": click token}``.

Every answer to a hit is an empty 204, whatever happened: a refused origin, a bad body, a rate
limit, Do Not Track or Global Privacy Control all record nothing and say nothing. The body and
every field are bounded; URLs must be http(s).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Response

from trellis import json_limits
from trellis.api.ratelimit import RateLimiter
from trellis.clock import Clock
from trellis.domains.site_tracking.ingest import HitQueue
from trellis.domains.site_tracking.service import DEVICES, WebHit, valid_visitor, web_service
from trellis.runtime.group_commit import BufferFull

MAX_BODY_BYTES = 8 * 1024
MAX_URL = 2000
MAX_TITLE = 500
SITE = re.compile(r"^[A-Za-z0-9._-]{0,100}$")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
SCRIPT = (Path(__file__).parent / "static" / "w.js").read_text(encoding="utf-8")
SCRIPT_ETAG = '"' + hashlib.sha256(SCRIPT.encode()).hexdigest()[:32] + '"'
NO_STORE = {"Cache-Control": "no-store, private"}

public_router = APIRouter(include_in_schema=False)


def _no_content(request: Request) -> Response:
    return Response(status_code=204, headers={**NO_STORE, **_cors(request)})


def _cors(request: Request) -> dict[str, str]:
    origin = request.headers.get("origin")
    if origin is None or not _origin_allowed(request):
        return {}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


def _origin_allowed(request: Request) -> bool:
    settings = request.app.state.settings
    allowed: list[str] = settings.web.allowed_origins
    if not allowed:
        return True
    origin = (request.headers.get("origin") or "").lower().rstrip("/")
    # Trellis's own landing pages carry the script too.
    own = urlsplit(settings.base_url)
    return origin in {a.lower().rstrip("/") for a in allowed} or origin == (
        f"{own.scheme}://{own.netloc}".lower()
    )


def _own_landing_page(request: Request, data: Any) -> bool:
    """A hit from one of this server's landing pages: they run sandboxed (an opaque origin),
    so the browser sends ``Origin: null``."""
    own = urlsplit(request.app.state.settings.base_url)
    pages = f"{own.scheme}://{own.netloc}/p/".lower()
    url = data.get("u") if isinstance(data, dict) else None
    return isinstance(url, str) and url.lower().startswith(pages)


def _opts_out(request: Request) -> bool:
    return request.headers.get("dnt", "").strip() == "1" or (
        request.headers.get("sec-gpc", "").strip() == "1"
    )


def _text(value: Any, limit: int) -> str:
    if not isinstance(value, str):
        return ""
    return CONTROL.sub("", value)[:limit]


def _url(value: Any) -> str | None:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_URL or CONTROL.search(value):
        return None
    if not value.lower().startswith(("http://", "https://")):
        return None
    return value


def _device(value: Any, user_agent: str) -> str:
    if value in DEVICES:
        return str(value)
    if re.search(r"iPad|Tablet", user_agent, re.IGNORECASE):
        return "tablet"
    if re.search(r"Mobi|Android|iPhone", user_agent, re.IGNORECASE):
        return "mobile"
    return "desktop"


def parse_hit(data: Any, *, at: datetime, user_agent: str = "") -> WebHit | None:
    """A checked, bounded hit from the posted object; None when it is not one."""
    if not isinstance(data, dict):
        return None
    visitor = valid_visitor(data.get("v"))
    url = _url(data.get("u"))
    if visitor is None or url is None:
        return None
    site = data.get("s", "")
    if not isinstance(site, str) or not SITE.fullmatch(site):
        site = ""
    token = data.get("ct")
    send_id = web_service.click_tokens.verify(token) if isinstance(token, str) else None
    return WebHit(
        visitor_id=visitor,
        url=url,
        at=at,
        title=_text(data.get("t"), MAX_TITLE),
        referrer=_url(data.get("r")) or "",
        site=site,
        device=_device(data.get("d"), user_agent),
        send_id=send_id,
    )


async def _body(request: Request) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def script(request: Request) -> Response:
    headers = {"Cache-Control": "public, max-age=3600", "ETag": SCRIPT_ETAG}
    if SCRIPT_ETAG in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(SCRIPT, media_type="text/javascript; charset=utf-8", headers=headers)


async def hit(request: Request) -> Response:
    limiter: RateLimiter = request.app.state.web_limiter
    if not await limiter.allow(request.client.host if request.client else "-"):
        return _no_content(request)
    if _opts_out(request):
        return _no_content(request)
    origin_ok = _origin_allowed(request)
    if not origin_ok and request.headers.get("origin") != "null":
        return _no_content(request)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("text/plain", "application/json", ""):
        return _no_content(request)
    body = await _body(request)
    if not body:
        return _no_content(request)
    try:
        data = json_limits.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return _no_content(request)
    if not origin_ok and not _own_landing_page(request, data):
        return _no_content(request)
    clock: Clock = request.app.state.clock
    parsed = parse_hit(data, at=clock.now(), user_agent=request.headers.get("user-agent", ""))
    if parsed is not None:
        hits: HitQueue = request.app.state.web_hits
        # The database away for long: the hit is dropped; the page never knows.
        with contextlib.suppress(BufferFull):
            hits.add(parsed)
    return _no_content(request)


async def preflight(request: Request) -> Response:
    headers = {"Vary": "Origin", **_cors(request)}
    if "Access-Control-Allow-Origin" in headers:
        headers.update(
            {
                "Access-Control-Allow-Methods": "POST",
                "Access-Control-Allow-Headers": "Content-Type",
                "Access-Control-Max-Age": "600",
            }
        )
    return Response(status_code=204, headers=headers)


# Plain Starlette routes: FastAPI's dependency solving would be most of the cost of a hit.
public_router.add_route("/t/w.js", script, methods=["GET"], include_in_schema=False)
public_router.add_route("/t/hit", hit, methods=["POST"], include_in_schema=False)
public_router.add_route("/t/hit", preflight, methods=["OPTIONS"], include_in_schema=False)
