"""GuardedHttp against a real HTTP server on 127.0.0.1, started by the tests.

Public addresses are only ever simulated: a resolver stub answers them, and a recording network
backend notes the address a connection was opened to and then connects to the local server.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import socket
import ssl
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpcore
import pytest

from tests.fixtures.tls import self_signed_certificate
from trellis import __version__
from trellis.runtime.http import GuardedHttp, non_global_kind

PUBLIC_IP = "93.184.216.34"
HINT = (
    "set TRELLIS_WEBHOOKS__ALLOW_PRIVATE=true for every Trellis process (serve, worker and the "
    "command line) to allow private targets."
)


# ---------------------------------------------------------------------------------------------
# A tiny HTTP/1.1 server (keep-alive, Content-Length bodies) that records what it receives.


@dataclass
class Received:
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        assert len(values) <= 1, f"{name} sent {len(values)} times"
        return values[0] if values else None


@dataclass
class LocalServer:
    """Routes: /status/<code>, /redirect, /slow, /big, /delay/<ms>; anything else answers 200."""

    ssl_context: ssl.SSLContext | None = None
    requests: list[Received] = field(default_factory=list)
    connections: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    port: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)

    async def start(self) -> LocalServer:
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", 0, ssl=self.ssl_context
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def url(self, path: str = "/", host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    async def close(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        self.connections += 1
        try:
            while await self._one_request(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        except asyncio.CancelledError:
            pass  # close() cancels what is still running; end quietly (asyncio logs otherwise)
        finally:
            writer.close()
            self._writers.discard(writer)
            self._tasks.discard(task)

    async def _one_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False
        lines = head.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        headers: list[tuple[str, str]] = []
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers.append((name, value.strip()))
        length = int(next((v for k, v in headers if k.lower() == "content-length"), "0"))
        body = await reader.readexactly(length) if length else b""
        self.requests.append(Received(method, target, headers, body))
        status, extra, payload = await self._route(target)
        reason = {200: "OK", 302: "Found"}.get(status, "Status")
        response = [f"HTTP/1.1 {status} {reason}", f"Content-Length: {len(payload)}", *extra]
        writer.write(("\r\n".join(response) + "\r\n\r\n").encode("latin-1") + payload)
        await writer.drain()
        return True

    async def _route(self, target: str) -> tuple[int, list[str], bytes]:
        path = target.split("?", 1)[0]
        if path.startswith("/status/"):
            code = int(path.removeprefix("/status/"))
            return code, [], f"status {code}".encode()
        if path == "/redirect":
            return 302, [f"Location: {self.url('/status/200')}"], b""
        if path == "/slow":
            await asyncio.sleep(30)
        if path == "/big":
            return 200, [], b"a" * 200_000
        if path.startswith("/delay/"):
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                await asyncio.sleep(int(path.removeprefix("/delay/")) / 1000)
            finally:
                self.in_flight -= 1
        return 200, ["Content-Type: text/plain; charset=utf-8"], "ok ✓".encode()


@contextlib.asynccontextmanager
async def local_server(ssl_context: ssl.SSLContext | None = None) -> AsyncIterator[LocalServer]:
    server = await LocalServer(ssl_context=ssl_context).start()
    try:
        yield server
    finally:
        await server.close()


class StubResolver:
    """Answers from a table (a list per call, the last one repeating) and counts lookups."""

    def __init__(self, answers: dict[str, Sequence[Sequence[str]]]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.calls.append((host, port))
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        rounds = self.answers[host]
        return rounds[min(len(self.calls_for(host)) - 1, len(rounds) - 1)]

    def calls_for(self, host: str) -> list[tuple[str, int]]:
        return [call for call in self.calls if call[0] == host]


class RecordingBackend(httpcore.AsyncNetworkBackend):
    """Records the address every connection is opened to, then connects to the local server
    instead (never to the recorded address), or fails for the addresses in ``unreachable``."""

    def __init__(self, local_port: int, unreachable: Iterable[str] = ()) -> None:
        self.local_port = local_port
        self.unreachable = set(unreachable)
        self.connects: list[tuple[str, int]] = []
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.connects.append((host, port))
        if host in self.unreachable:
            raise httpcore.ConnectError(f"[Errno 113] No route to host ({host})")
        return await self._inner.connect_tcp("127.0.0.1", self.local_port, timeout=timeout)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with local_server() as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[GuardedHttp]:
    async with GuardedHttp(allow_private=True) as client:
        yield client


async def post(http: GuardedHttp, url: str, **kwargs: Any) -> Any:
    args: dict[str, Any] = {"method": "POST", "headers": {}, "body": "{}", "timeout_s": 5}
    args.update(kwargs)
    return await http.send(url=url, **args)


# ---------------------------------------------------------------------------------------------
# The address classifier


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("10.0.0.5", "a private address"),
        ("172.16.0.1", "a private address"),
        ("172.31.255.254", "a private address"),
        ("192.168.1.1", "a private address"),
        ("169.254.169.254", "cloud metadata"),
        ("169.254.1.1", "link-local"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("100.127.255.254", "carrier-grade NAT"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "not publicly routable"),
        ("192.0.2.1", "not publicly routable"),
        ("198.18.0.1", "not publicly routable"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("fc00::1", "unique local"),
        ("fd12:3456:789a::1", "unique local"),
        ("fec0::1", "site-local"),
        ("ff02::1", "multicast"),
        ("2001:db8::1", "not publicly routable"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.5", "a private address"),
        ("::ffff:169.254.169.254", "cloud metadata"),
        ("::ffff:100.64.0.1", "carrier-grade NAT"),
        ("64:ff9b::a00:5", "a private address"),  # NAT64 of 10.0.0.5
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("2002:a00:5::1", "inside a 6to4 address"),
        ("::7f00:1", "reserved"),  # IPv4-compatible (deprecated) ::127.0.0.1  # 6to4 of 10.0.0.5
    ],
)
def test_non_global_addresses_are_classified(address: str, kind: str) -> None:
    found = non_global_kind(ipaddress.ip_address(address))
    assert found is not None
    assert kind in found


def test_embedded_ipv4_is_named_in_the_kind() -> None:
    found = non_global_kind(ipaddress.ip_address("::ffff:10.0.0.5"))
    assert found == "a private address (IPv4 10.0.0.5 inside an IPv6 address)"


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        PUBLIC_IP,
        "1.1.1.1",
        "2606:4700:4700::1111",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
    ],
)
def test_global_addresses_pass(address: str) -> None:
    assert non_global_kind(ipaddress.ip_address(address)) is None


# ---------------------------------------------------------------------------------------------
# Statuses, bodies and headers


@pytest.mark.parametrize("status", [200, 201, 204, 404, 422, 500, 503])
async def test_the_status_is_returned(server: LocalServer, http: GuardedHttp, status: int) -> None:
    result = await post(http, server.url(f"/status/{status}"))
    assert result.status == status
    assert result.error == ""
    assert result.body_excerpt == ("" if status == 204 else f"status {status}")


async def test_body_and_headers_arrive_intact(server: LocalServer, http: GuardedHttp) -> None:
    body = json.dumps({"name": 'Zoë "Q" O\'Neil', "emoji": "🌱"}, ensure_ascii=False)
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": "trellis:7:evt-1:42:1",
        "X-Signature": "sha256=abc def",
    }
    result = await http.send(
        method="POST", url=server.url("/hook?x=1&y=two"), headers=headers, body=body, timeout_s=5
    )
    assert result.status == 200
    assert result.body_excerpt == "ok ✓"
    [received] = server.requests
    assert received.method == "POST"
    assert received.target == "/hook?x=1&y=two"
    assert received.body == body.encode()
    assert received.header("Content-Length") == str(len(body.encode()))
    assert received.header("Content-Type") == "application/json"
    assert received.header("Idempotency-Key") == "trellis:7:evt-1:42:1"
    assert received.header("X-Signature") == "sha256=abc def"
    assert received.header("User-Agent") == f"Trellis-Webhook/{__version__}"
    assert received.header("Host") == f"127.0.0.1:{server.port}"


@pytest.mark.parametrize("method", ["GET", "DELETE"])
async def test_no_body_sends_no_body(server: LocalServer, http: GuardedHttp, method: str) -> None:
    result = await http.send(method=method, url=server.url(), headers={}, body=None, timeout_s=5)
    assert result.status == 200
    [received] = server.requests
    assert received.method == method
    assert received.body == b""
    assert received.header("Content-Length") is None


async def test_a_redirect_is_not_followed(server: LocalServer, http: GuardedHttp) -> None:
    result = await post(http, server.url("/redirect"))
    assert result.status == 302
    assert result.error == (
        f"The server answered 302 (a redirect to {server.url('/status/200')}); "
        "redirects are not followed."
    )
    assert [r.target for r in server.requests] == ["/redirect"]


async def test_the_excerpt_is_capped(server: LocalServer) -> None:
    async with GuardedHttp(allow_private=True, max_response_bytes=1000) as http:
        result = await post(http, server.url("/big"))
    assert result.status == 200
    assert result.body_excerpt == "a" * 1000


async def test_connections_are_pooled(server: LocalServer, http: GuardedHttp) -> None:
    for _ in range(3):
        assert (await post(http, server.url())).status == 200
    assert server.connections == 1


# ---------------------------------------------------------------------------------------------
# Failures become results, never exceptions


async def test_a_timeout_is_a_clear_error(server: LocalServer, http: GuardedHttp) -> None:
    started = time.monotonic()
    result = await post(http, server.url("/slow"), timeout_s=0.5)
    assert time.monotonic() - started < 3
    assert result.status is None
    assert result.error == "No answer from 127.0.0.1 within 0.5 s."


async def test_a_refused_connection_is_a_clear_error(http: GuardedHttp) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = await post(http, f"http://127.0.0.1:{port}/")
    assert result.status is None
    assert result.error.startswith("Could not connect to 127.0.0.1: ")
    assert "\n" not in result.error


async def test_an_unknown_host_is_a_clear_error() -> None:
    async with GuardedHttp(resolver=StubResolver({})) as http:
        result = await post(http, "https://nowhere.example.test/hook")
    assert result == type(result)(
        status=None, error="Could not resolve nowhere.example.test: Name or service not known."
    )


@pytest.mark.parametrize(
    ("url", "headers", "error"),
    [
        ("ftp://127.0.0.1/x", {}, "Refused: only http and https URLs can be called."),
        ("file:///etc/passwd", {}, "Refused: only http and https URLs can be called."),
        (
            "http://user:secret@127.0.0.1/",
            {},
            "Refused: the URL must not contain credentials; send them in a header instead.",
        ),
        (
            "http://127.0.0.1/a\r\nX-Evil: 1",
            {},
            "Refused: the URL contains spaces or control characters.",
        ),
        (
            "URL",
            {"X-A": "ok\r\nX-Evil: 1"},
            "Refused: the value of the header X-A contains a line break.",
        ),
        (
            "URL",
            {"X-A": "ok\nX-Evil: 1"},
            "Refused: the value of the header X-A contains a line break.",
        ),
        ("URL", {"X-A\r\nX-Evil": "1"}, "Refused: 'X-A\\r\\nX-Evil' is not a valid header name."),
        (
            "URL",
            {"Host": "internal"},
            "Refused: the header Host is set by Trellis and cannot be set.",
        ),
        (
            "URL",
            {"X-Name": "Zoë"},
            "Refused: the value of the header X-Name contains characters other than ASCII.",
        ),
        (
            "URL",
            {"Transfer-Encoding": "chunked"},
            "Refused: the header Transfer-Encoding is set by Trellis and cannot be set.",
        ),
    ],
)
async def test_bad_requests_are_refused_without_a_connection(
    server: LocalServer, http: GuardedHttp, url: str, headers: dict[str, str], error: str
) -> None:
    url = server.url("/") if url == "URL" else url
    result = await post(http, url, headers=headers)
    assert result.status is None
    assert result.error == error
    assert server.connections == 0


async def test_an_unknown_method_is_refused(server: LocalServer, http: GuardedHttp) -> None:
    result = await post(http, server.url(), method="CONNECT")
    assert result.error == "Refused: the method 'CONNECT' is not supported."
    assert server.connections == 0


# ---------------------------------------------------------------------------------------------
# The SSRF guard


async def test_loopback_is_refused_unless_allowed(server: LocalServer) -> None:
    async with GuardedHttp(allow_private=False) as http:
        result = await post(http, server.url("/status/200"))
    assert result.status is None
    assert result.error == f"Refused: 127.0.0.1 is a loopback address; {HINT}"
    assert server.connections == 0

    async with GuardedHttp(allow_private=True) as http:
        assert (await post(http, server.url("/status/200"))).status == 200
    assert server.connections == 1


async def test_ipv6_literal_loopback_is_refused() -> None:
    async with GuardedHttp() as http:
        result = await post(http, "http://[::1]:8080/")
        mapped = await post(http, "http://[::ffff:127.0.0.1]:8080/")
    assert result.error == f"Refused: ::1 is a loopback address; {HINT}"
    assert mapped.error.startswith("Refused: ::ffff:")
    assert "a loopback address (IPv4 127.0.0.1 inside an IPv6 address)" in mapped.error


async def test_the_system_resolver_is_used_by_default(server: LocalServer) -> None:
    async with GuardedHttp() as http:  # localhost comes from the hosts file: no network
        result = await post(http, server.url(host="localhost"))
    assert result.status is None
    assert result.error.startswith("Refused: localhost resolves to ")
    assert result.error.endswith(HINT)
    assert server.connections == 0


async def test_a_hostname_resolving_to_a_private_address_is_refused(server: LocalServer) -> None:
    resolver = StubResolver({"api.example.test": [["10.0.0.5"]]})
    backend = RecordingBackend(server.port)
    async with GuardedHttp(resolver=resolver, network_backend=backend) as http:
        result = await post(http, "https://api.example.test/hook")
    assert result.status is None
    assert result.error == (
        "Refused: api.example.test resolves to 10.0.0.5, a private address; "
        "set TRELLIS_WEBHOOKS__ALLOW_PRIVATE=true for every Trellis process (serve, worker and "
        "the command line) to allow private targets."
    )
    assert resolver.calls == [("api.example.test", 443)]
    assert backend.connects == []


async def test_one_private_address_among_public_ones_is_enough_to_refuse(
    server: LocalServer,
) -> None:
    resolver = StubResolver({"api.example.test": [[PUBLIC_IP, "169.254.169.254"]]})
    backend = RecordingBackend(server.port)
    async with GuardedHttp(resolver=resolver, network_backend=backend) as http:
        result = await post(http, "http://api.example.test/hook")
    assert result.error == (
        "Refused: api.example.test resolves to 169.254.169.254, a link-local address "
        f"(the cloud metadata service); {HINT}"
    )
    assert backend.connects == []


async def test_an_allowed_hostname_is_pinned_to_the_checked_address(server: LocalServer) -> None:
    resolver = StubResolver({"hooks.example.test": [["127.0.0.1"]]})
    async with GuardedHttp(allow_private=True, resolver=resolver) as http:
        first = await post(http, server.url("/a", host="hooks.example.test"))
        second = await post(http, server.url("/b", host="hooks.example.test"))
    assert (first.status, second.status) == (200, 200)
    assert [r.header("Host") for r in server.requests] == [f"hooks.example.test:{server.port}"] * 2
    # One lookup: the second call reused the connection opened to the checked address.
    assert resolver.calls == [("hooks.example.test", server.port)]
    assert server.connections == 1


async def test_dns_rebinding_cannot_redirect_the_connection(server: LocalServer) -> None:
    # The first answer is public; any later lookup would say loopback. The guard must connect
    # to the public address it checked, without a second lookup.
    resolver = StubResolver({"hooks.example.test": [[PUBLIC_IP], ["127.0.0.1"]]})
    backend = RecordingBackend(server.port)
    async with GuardedHttp(resolver=resolver, network_backend=backend) as http:
        result = await post(http, "http://hooks.example.test:8080/hook")
    assert result.status == 200
    assert backend.connects == [(PUBLIC_IP, 8080)]
    assert resolver.calls == [("hooks.example.test", 8080)]
    [received] = server.requests
    assert received.header("Host") == "hooks.example.test:8080"
    assert received.target == "/hook"


async def test_a_public_literal_address_is_allowed(server: LocalServer) -> None:
    resolver = StubResolver({})
    backend = RecordingBackend(server.port)
    async with GuardedHttp(resolver=resolver, network_backend=backend) as http:
        result = await post(http, f"http://{PUBLIC_IP}/hook")
    assert result.status == 200
    assert backend.connects == [(PUBLIC_IP, 80)]
    assert resolver.calls == []


async def test_the_next_checked_address_is_tried_when_one_is_unreachable(
    server: LocalServer,
) -> None:
    resolver = StubResolver({"hooks.example.test": [["2606:4700:4700::1111", PUBLIC_IP]]})
    backend = RecordingBackend(server.port, unreachable=["2606:4700:4700::1111"])
    async with GuardedHttp(resolver=resolver, network_backend=backend) as http:
        result = await post(http, "http://hooks.example.test/hook")
    assert result.status == 200
    assert backend.connects == [("2606:4700:4700::1111", 80), (PUBLIC_IP, 80)]


async def test_environment_proxies_are_ignored(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    async with GuardedHttp(allow_private=True) as http:
        assert (await post(http, server.url())).status == 200
    assert server.connections == 1


# ---------------------------------------------------------------------------------------------
# TLS: the certificate is verified for the host name while the socket goes to the checked address


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_certificate(
        tmp_path_factory.mktemp("tls"),
        common_name="hooks.example.test",
        alt_name="DNS:hooks.example.test",
    )


async def test_tls_verifies_the_host_name_and_sends_sni(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    names: list[str | None] = []

    def record_sni(_obj: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        names.append(name)

    server_context.sni_callback = record_sni
    client_context = ssl.create_default_context(cafile=str(cert))
    resolver = StubResolver(
        {"hooks.example.test": [["127.0.0.1"]], "other.example.test": [["127.0.0.1"]]}
    )
    async with (
        local_server(server_context) as server,
        GuardedHttp(allow_private=True, resolver=resolver, ssl_context=client_context) as http,
    ):
        good = await post(
            http, server.url("/status/201", host="hooks.example.test", scheme="https")
        )
        bad = await post(http, server.url("/status/201", host="other.example.test", scheme="https"))
    assert good.status == 201
    assert names[0] == "hooks.example.test"
    assert [r.header("Host") for r in server.requests] == [f"hooks.example.test:{server.port}"]
    assert bad.status is None
    assert bad.error.startswith("Could not connect to other.example.test: ")
    assert "certificate" in bad.error.lower()
