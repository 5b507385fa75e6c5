"""ASGI middleware that must see requests before FastAPI parses them."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trellis.api.problems import PROBLEM_MEDIA_TYPE, TYPE_BASE, problem_response
from trellis.errors import FieldError, PayloadTooLarge
from trellis.json_limits import MAX_JSON_DEPTH, nests_deeper


class BodyLimitMiddleware:
    """Refuse bodies over ``max_bytes`` with 413, whether or not Content-Length is sent.

    A declared length over the limit is refused before reading; a chunked body is read up to
    the limit and refused as soon as it passes it, so memory stays bounded either way.
    """

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, uploads: dict[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # Path prefixes that take file uploads, with their own (larger) limits. Their bodies
        # are streamed through, counted, never buffered here.
        self.uploads = uploads or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        upload_limit = self._upload_limit(scope.get("path", ""))
        if upload_limit is not None:
            if declared is not None and declared > upload_limit:
                await self._refuse(scope, send, upload_limit)
                return
            await self.app(scope, _counting(receive, upload_limit), send)
            return
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, send, self.max_bytes)
            return
        if declared is not None:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, send, self.max_bytes)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        await self.app(scope, _replaying(body, receive), send)

    def _upload_limit(self, path: str) -> int | None:
        for prefix, limit in self.uploads.items():
            if path.startswith(prefix):
                return limit
        return None

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        payload = json.dumps(
            {
                "type": TYPE_BASE + "payload-too-large",
                "title": "Payload too large",
                "status": 413,
                "detail": f"The request body is larger than {limit} bytes.",
                "instance": scope.get("path", ""),
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                    (b"content-length", str(len(payload)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def _replaying(body: bytes, receive: Receive) -> Receive:
    """The body, already read, as one message; then whatever comes next (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _counting(receive: Receive, limit: int) -> Receive:
    """Pass the body through, failing with 413 as soon as it passes ``limit`` bytes."""
    size = 0

    async def counted() -> Message:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                raise PayloadTooLarge(f"The upload is larger than {limit} bytes.")
        return message

    return counted


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class JsonDepthMiddleware:
    """Refuse a JSON body nested deeper than :data:`MAX_JSON_DEPTH` with 400, before any route
    parses it (Python's parser would recurse once per level: 100,000 ``[`` are a
    ``RecursionError``).

    It checks the bodies FastAPI reads as JSON (no content type, ``*/json``, ``*/*+json``), on
    every route, public or not; routes that parse JSON of another media type themselves (the
    website tracking beacon's ``text/plain``) use :func:`trellis.json_limits.loads`. Placed
    inside :class:`BodyLimitMiddleware`, so the body it holds is already bounded in size; file
    uploads (``skip`` prefixes) are left to their own parsers.
    """

    def __init__(self, app: ASGIApp, *, skip: tuple[str, ...] = ()) -> None:
        self.app = app
        self.skip = skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get("method") in ("GET", "HEAD", "OPTIONS")
            or not _is_json(scope)
            or scope.get("path", "").startswith(self.skip)
        ):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if nests_deeper(body, MAX_JSON_DEPTH):
            response = problem_response(
                400,
                detail=f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels.",
                type_slug="json-too-deep",
                errors=[FieldError("", f"At most {MAX_JSON_DEPTH} levels.", "too_deep")],
                instance=scope.get("path", ""),
            )
            await response(scope, receive, send)
            return
        await self.app(scope, _replaying(body, receive), send)


def _is_json(scope: Scope) -> bool:
    """Whether FastAPI would read this body as JSON."""
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            kind: bytes = value.split(b";")[0].strip().lower()
            return kind.endswith((b"/json", b"+json"))
    return True


class SecurityHeadersMiddleware:
    """Headers that keep every page on its own origin: no third-party loads, no framing; and
    Strict-Transport-Security when the deployment is served over TLS only.

    The application wraps its whole stack in it (outside Starlette's error middleware), so
    that a 500 carries them too.
    """

    CSP = (
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
        "base-uri 'self'; form-action 'self'"
    )

    def __init__(
        self, app: ASGIApp, *, hsts_max_age_s: int = 0, hsts_include_subdomains: bool = False
    ) -> None:
        self.app = app
        self.headers: list[tuple[bytes, bytes]] = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"x-frame-options", b"DENY"),
            (b"content-security-policy", self.CSP.encode()),
        ]
        if hsts_max_age_s > 0:
            value = f"max-age={hsts_max_age_s}"
            if hsts_include_subdomains:
                value += "; includeSubDomains"
            self.headers.append((b"strict-transport-security", value.encode()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend((n, v) for n, v in self.headers if n not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class ForwardedClientMiddleware:
    """Take the client's address (and the scheme) from ``X-Forwarded-For`` and
    ``X-Forwarded-Proto``, but only on connections from a trusted reverse proxy.

    Anyone can send these headers; believed from anyone, they would let a client pick the
    address every per-address limit counts (sign-in, forms, tracking). So they are ignored
    unless the peer is one of ``trusted`` (addresses or networks, none by default). The
    client is the right-most address that is not a trusted proxy: the left part of the
    header is whatever the client sent, the right part was appended by the proxies.
    """

    def __init__(self, app: ASGIApp, *, trusted: Sequence[str]) -> None:
        self.app = app
        self.trusted = [ipaddress.ip_network(entry, strict=False) for entry in trusted]

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] in ("http", "websocket") and client and self._is_trusted(client[0]):
            scope = dict(scope)
            forwarded_for = _header_values(scope, b"x-forwarded-for")
            address = client[0]
            for hop in reversed(forwarded_for):
                if not _is_address(hop):
                    break
                address = hop
                if not self._is_trusted(hop):
                    break
            scope["client"] = (address, 0)
            protos = _header_values(scope, b"x-forwarded-proto")
            if protos and protos[-1].lower() in ("http", "https"):
                secure = protos[-1].lower() == "https"
                if scope["type"] == "websocket":
                    scope["scheme"] = "wss" if secure else "ws"
                else:
                    scope["scheme"] = "https" if secure else "http"
        await self.app(scope, receive, send)


def _header_values(scope: Scope, name: bytes) -> list[str]:
    """Every comma-separated value of header ``name``, over all its occurrences, in order."""
    values: list[str] = []
    for key, raw in scope.get("headers", []):
        if key.lower() == name:
            values.extend(v.strip() for v in raw.decode("latin-1").split(",") if v.strip())
    return values


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
