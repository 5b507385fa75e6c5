"""Outgoing HTTP for campaign webhooks, behind a guard against server-side request forgery.

``GuardedHttp`` implements the ``HttpPort`` of ``trellis.events.base`` on one shared
``httpx.AsyncClient`` (pooled connections, bounded limits). What it guarantees:

- Only ``http`` and ``https`` URLs, without credentials in them (put those in a header). Any
  port is allowed: receivers listen on all sorts of ports, and what makes a target dangerous is
  its address, which is checked.
- The host name is resolved, and the request is refused before anything is sent when any of its
  addresses is not globally routable (loopback, private, link-local including the cloud metadata
  address 169.254.169.254, carrier-grade NAT, multicast, reserved, unspecified, IPv6 unique local
  and link-local, and IPv4 addresses embedded in IPv6 ones), unless an administrator allowed
  private targets. Literal IP hosts are checked the same way.
- DNS rebinding cannot slip past the check: the name is resolved once, in the network backend of
  the connection pool, and the socket is opened to the address that was checked, never through a
  second lookup. TLS still verifies the certificate against (and sends SNI for) the host name,
  and pooled connections are keyed by host name, so a connection authenticated for one name is
  never reused for another that happens to share its address.
- Redirects are never followed: a 3xx is returned as the status, with a reason naming the
  redirect. Environment proxies are ignored (``trust_env=False``): a proxy would do its own
  lookup.
- ``timeout_s`` bounds connecting, each read and write, and the whole call. Network errors and
  timeouts come back as ``HttpResult(status=None, error=...)`` with a one-line reason; ``send``
  never raises (cancellation apart).
- Header names and values are validated by the webhook's config model; CR, LF and NUL are still
  refused here, and so are the headers that frame the message (Host, Content-Length, ...).
- At most ``max_response_bytes`` of the answer are read (undecoded: ``Accept-Encoding:
  identity`` is asked for), and kept as the excerpt.

The guard holds ``allow_private`` for its lifetime: build a new one when the setting changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import re
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, Final

import httpcore
import httpx

from trellis import __version__
from trellis.events.base import HttpResult

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# (host, port) -> the IP addresses (as text) the host name resolves to.
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

DEFAULT_MAX_RESPONSE_BYTES: Final = 64 * 1024
DEFAULT_USER_AGENT: Final = f"Trellis-Webhook/{__version__}"
METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Headers that frame the message or route it: set by the client, never by a webhook config.
RESERVED_HEADERS: Final = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "upgrade",
    }
)
# There is no switch in the UI: the setting is read from the environment at start-up.
ALLOW_HINT: Final = (
    "set TRELLIS_WEBHOOKS__ALLOW_PRIVATE=true for every Trellis process (serve, worker and the "
    "command line) to allow private targets."
)

_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")
_RFC1918 = (
    ipaddress.IPv4Network("10.0.0.0/8"),
    ipaddress.IPv4Network("172.16.0.0/12"),
    ipaddress.IPv4Network("192.168.0.0/16"),
)
_METADATA = ipaddress.IPv4Address("169.254.169.254")
_UNIQUE_LOCAL = ipaddress.IPv6Network("fc00::/7")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def non_global_kind(address: IPAddress) -> str | None:
    """``None`` when the address is globally routable, else what it is, for a message
    ("a loopback address", "a private address", ...)."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = _embedded_ipv4(address)
        if mapped is not None:  # the socket ends up talking IPv4 to this address
            kind = non_global_kind(mapped)
            return None if kind is None else f"{kind} (IPv4 {mapped} inside an IPv6 address)"
        sixtofour = address.sixtofour
        if sixtofour is not None and (kind := non_global_kind(sixtofour)) is not None:
            return f"{kind} (IPv4 {sixtofour} inside a 6to4 address)"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address == _METADATA:
        return "a link-local address (the cloud metadata service)"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, ipaddress.IPv4Address):
        if address in _SHARED:
            return "a shared carrier-grade NAT address"
        if any(address in network for network in _RFC1918):
            return "a private address"
    else:
        if address in _UNIQUE_LOCAL:
            return "a private (unique local) address"
        if address.is_site_local:
            return "a site-local address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private or not address.is_global:
        return "an address that is not publicly routable"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def parse_ip(text: str) -> IPAddress | None:
    """An IP address from a host or a resolver answer (brackets and IPv6 zone ids allowed)."""
    candidate = text.strip("[]")
    try:
        return ipaddress.ip_address(candidate)
    except ValueError:
        return None


async def system_resolver(host: str, port: int) -> list[str]:
    """The default resolver: the event loop's ``getaddrinfo``."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class _Blocked(Exception):
    """The call cannot be made; ``str()`` is the one-line reason."""


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _sentence(text: str) -> str:
    return text if text.endswith((".", "…", "!", "?")) else text + "."


class _PinningBackend(httpcore.AsyncNetworkBackend):
    """Resolves and checks the host when a connection is opened, then connects to exactly the
    addresses that passed the check."""

    def __init__(
        self, check: Callable[[str, int], Awaitable[list[str]]], inner: httpcore.AsyncNetworkBackend
    ) -> None:
        self._check = check
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._check(host, port)
        error: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as exc:
                error = exc
        raise error or httpcore.ConnectError(f"No address to connect to for {host}")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise _Blocked("Refused: webhooks cannot use Unix sockets.")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, response: httpcore.Response) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._response.aiter_stream():
            yield chunk

    async def aclose(self) -> None:
        await self._response.aclose()


class _PinnedTransport(httpx.AsyncBaseTransport):
    """httpx's transport contract on an httpcore pool whose network backend is the guard.
    (httpcore exceptions are not translated: ``GuardedHttp.send`` handles both families.)"""

    def __init__(self, pool: httpcore.AsyncConnectionPool) -> None:
        self._pool = pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            ),
            headers=request.headers.raw,
            content=request.stream if isinstance(request.stream, httpx.AsyncByteStream) else None,
            extensions=request.extensions,
        )
        response = await self._pool.handle_async_request(core_request)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._pool.aclose()


_TIMEOUTS = (httpx.TimeoutException, httpcore.TimeoutException)
_CONNECT_TIMEOUTS = (httpx.ConnectTimeout, httpcore.ConnectTimeout, httpx.PoolTimeout)
_CONNECT_ERRORS = (httpx.ConnectError, httpcore.ConnectError)
_NETWORK_ERRORS = (
    httpx.TransportError,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
    OSError,
)


class GuardedHttp:
    """The ``HttpPort`` for webhooks: one pooled client, an SSRF guard, no redirects.

    ``resolver(host, port)`` returns the host's IP addresses as text (default: the event loop's
    ``getaddrinfo``); ``ssl_context`` and ``network_backend`` are for tests and special
    deployments (defaults: httpx's verified context, httpcore's AnyIO backend).
    """

    def __init__(
        self,
        *,
        allow_private: bool = False,
        resolver: Resolver | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        user_agent: str = DEFAULT_USER_AGENT,
        max_connections: int = 100,
        max_keepalive_connections: int = 20,
        keepalive_expiry_s: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        if max_response_bytes < 0:
            raise ValueError("max_response_bytes must not be negative")
        self.allow_private = allow_private
        self.max_response_bytes = max_response_bytes
        self._resolver: Resolver = resolver or system_resolver
        pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(),
            max_connections=max_connections,
            max_keepalive_connections=max_keepalive_connections,
            keepalive_expiry=keepalive_expiry_s,
            network_backend=_PinningBackend(
                self._checked_addresses, network_backend or httpcore.AnyIOBackend()
            ),
        )
        self._client = httpx.AsyncClient(
            transport=_PinnedTransport(pool),
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": user_agent, "Accept-Encoding": "identity"},
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> GuardedHttp:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def send(
        self,
        *,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: str | None,
        timeout_s: float,
    ) -> HttpResult:
        try:
            target = self._target(url)
            method = self._method(method)
            self._check_headers(headers)
        except _Blocked as exc:
            return HttpResult(status=None, error=str(exc))
        host = target.host
        try:
            request = self._client.build_request(
                method,
                target,
                headers=dict(headers),
                content=None if body is None else body.encode("utf-8"),
                timeout=httpx.Timeout(timeout_s),
            )
        except (ValueError, TypeError, httpx.HTTPError) as exc:
            detail = _one_line(str(exc)) or type(exc).__name__
            return HttpResult(status=None, error=f"Refused: the request is not valid ({detail}).")
        deadline = asyncio.get_running_loop().time() + timeout_s
        try:
            async with asyncio.timeout_at(deadline):
                response = await self._client.send(request, stream=True)
        except _Blocked as exc:
            return HttpResult(status=None, error=str(exc))
        except (TimeoutError, *_TIMEOUTS) as exc:
            return HttpResult(status=None, error=self._timeout_reason(exc, host, timeout_s))
        except _CONNECT_ERRORS as exc:
            detail = _one_line(str(exc)) or type(exc).__name__
            return HttpResult(
                status=None, error=_sentence(f"Could not connect to {host}: {detail}")
            )
        except _NETWORK_ERRORS as exc:
            detail = _one_line(str(exc)) or type(exc).__name__
            error = _sentence(f"The request to {host} failed: {detail}")
            return HttpResult(status=None, error=error)
        except Exception as exc:  # the port promises a result, never an exception
            logger.exception("Unexpected error calling a webhook on %s", host)
            detail = _one_line(f"{type(exc).__name__}: {exc}")
            error = _sentence(f"The request to {host} failed: {detail}")
            return HttpResult(status=None, error=error)
        try:
            excerpt = await self._excerpt(response, deadline)
        finally:
            with contextlib.suppress(Exception):  # the status is known; closing is housekeeping
                await response.aclose()
        error = ""
        if 300 <= response.status_code < 400:
            location = response.headers.get("location")
            where = f" to {_one_line(location, 200)}" if location else ""
            error = (
                f"The server answered {response.status_code} (a redirect{where}); "
                "redirects are not followed."
            )
        return HttpResult(status=response.status_code, error=error, body_excerpt=excerpt)

    async def _excerpt(self, response: httpx.Response, deadline: float) -> str:
        """Up to ``max_response_bytes`` of the answer. The status is what counts: a body that
        is slow or cut short leaves the excerpt as far as it got."""
        data = bytearray()
        if self.max_response_bytes == 0:
            return ""
        try:
            async with asyncio.timeout_at(deadline):
                async for chunk in response.aiter_raw():
                    data += chunk
                    if len(data) >= self.max_response_bytes:
                        break
        except Exception:  # noqa: S110 - best effort, the status is what counts
            pass
        return bytes(data[: self.max_response_bytes]).decode("utf-8", errors="replace")

    @staticmethod
    def _timeout_reason(exc: BaseException, host: str, timeout_s: float) -> str:
        if isinstance(exc, _CONNECT_TIMEOUTS):
            return f"Timed out connecting to {host} after {timeout_s:g} s."
        return f"No answer from {host} within {timeout_s:g} s."

    @staticmethod
    def _target(url: str) -> httpx.URL:
        if _CONTROL.search(url) or " " in url:
            raise _Blocked("Refused: the URL contains spaces or control characters.")
        try:
            target = httpx.URL(url)
        except (httpx.InvalidURL, ValueError, TypeError) as exc:
            raise _Blocked(f"Refused: the URL is not valid ({_one_line(str(exc))}).") from None
        if target.scheme not in ("http", "https"):
            raise _Blocked("Refused: only http and https URLs can be called.")
        if target.userinfo:
            raise _Blocked(
                "Refused: the URL must not contain credentials; send them in a header instead."
            )
        if not target.host:
            raise _Blocked("Refused: the URL has no host.")
        return target

    @staticmethod
    def _method(method: str) -> str:
        upper = method.upper()
        if upper not in METHODS:
            raise _Blocked(f"Refused: the method {_one_line(method, 20)!r} is not supported.")
        return upper

    @staticmethod
    def _check_headers(headers: Mapping[str, str]) -> None:
        for name, value in headers.items():
            if not _HEADER_NAME.match(name):
                raise _Blocked(f"Refused: {name[:60]!r} is not a valid header name.")
            if "\r" in value or "\n" in value or "\x00" in value:
                raise _Blocked(f"Refused: the value of the header {name} contains a line break.")
            if not value.isascii():
                raise _Blocked(
                    f"Refused: the value of the header {name} contains characters other than ASCII."
                )
            if name.lower() in RESERVED_HEADERS:
                raise _Blocked(f"Refused: the header {name} is set by Trellis and cannot be set.")

    async def _checked_addresses(self, host: str, port: int) -> list[str]:
        """The addresses to connect to for ``host``, all of which passed the check.
        Called by the pool's network backend when it opens a connection."""
        literal = parse_ip(host)
        if literal is not None:
            kind = None if self.allow_private else non_global_kind(literal)
            if kind is not None:
                raise _Blocked(f"Refused: {literal} is {kind}; {ALLOW_HINT}")
            return [str(literal)]
        try:
            answers = await self._resolver(host, port)
        except (OSError, UnicodeError) as exc:
            detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise _Blocked(
                f"Could not resolve {host}: {_one_line(detail) or 'no address'}."
            ) from None
        addresses: list[IPAddress] = []
        for answer in answers:
            address = parse_ip(answer)
            if address is None:
                raise _Blocked(f"Could not resolve {host}: the resolver answered {answer!r}.")
            if address not in addresses:
                addresses.append(address)
        if not addresses:
            raise _Blocked(f"Could not resolve {host}: no address.")
        if not self.allow_private:
            for address in addresses:
                kind = non_global_kind(address)
                if kind is not None:
                    raise _Blocked(f"Refused: {host} resolves to {address}, {kind}; {ALLOW_HINT}")
        return [str(address) for address in addresses]
