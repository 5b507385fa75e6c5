"""What every response and every client address is: security headers on errors too, HSTS
when asked for, and X-Forwarded-For believed from configured proxies only."""

from __future__ import annotations

import itertools

import httpx
import pytest

from tests.fixtures.api import Harness
from trellis.domains.users.service import user_service
from trellis.settings import ApiSettings, Settings

HARNESS_PEER = "203.0.113.7"
_ACCOUNTS = itertools.count()


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    api: ApiSettings = getattr(request, "param", ApiSettings())
    return settings.model_copy(update={"api": api})


async def test_an_unexpected_error_answers_500_with_the_security_headers(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await harness.create_token(await harness.create_user("owner@example.com"))

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(user_service, "get", broken)
    transport = httpx.ASGITransport(
        app=harness.app, client=(HARNESS_PEER, 40000), raise_app_exceptions=False
    )
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://testserver",
        headers={"Authorization": f"Bearer {token}"},
    ) as client:
        response = await client.get("/api/v2/auth/me")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "a bug" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_no_hsts_unless_configured(harness: Harness) -> None:
    async with harness.client() as client:
        response = await client.get("/healthz")
    assert "strict-transport-security" not in response.headers


@pytest.mark.parametrize(
    "settings",
    [ApiSettings(hsts_max_age_s=31_536_000, hsts_include_subdomains=True)],
    indirect=True,
)
async def test_hsts_on_every_response_when_configured(harness: Harness) -> None:
    async with harness.client() as client:
        for path in ("/healthz", "/api/v2/auth/me", "/no/such/page"):
            response = await client.get(path)
            assert (
                response.headers["strict-transport-security"]
                == "max-age=31536000; includeSubDomains"
            ), path


async def _guesses(client: httpx.AsyncClient, forwarded_for: str, count: int) -> list[int]:
    return [
        (
            await client.post(
                "/api/v2/auth/login",
                # A new account each time: only the per-address limit is at play.
                json={"email": f"guess{next(_ACCOUNTS)}@example.com", "password": "Wrong-1x"},
                headers={"X-Forwarded-For": forwarded_for},
            )
        ).status_code
        for i in range(count)
    ]


async def test_forwarded_for_is_ignored_from_a_peer_that_is_not_a_trusted_proxy(
    harness: Harness,
) -> None:
    limit = harness.settings.auth.login_attempts_per_minute_per_ip
    async with harness.client() as client:
        statuses = [(await _guesses(client, f"192.0.2.{i + 1}", 1))[0] for i in range(limit + 1)]
    assert statuses == [401] * limit + [429]


@pytest.mark.parametrize(
    "settings", [ApiSettings(trusted_proxies=["203.0.113.0/28"])], indirect=True
)
async def test_a_trusted_proxy_names_the_client(harness: Harness) -> None:
    limit = harness.settings.auth.login_attempts_per_minute_per_ip
    async with harness.client() as client:
        # The client's own claim (left) is not believed; the proxy's entry (right-most
        # untrusted) is. Two proxies in a row: the inner one is skipped as trusted.
        spoofed_then_real = "10.9.9.9, 198.51.100.1, 203.0.113.9"
        assert await _guesses(client, spoofed_then_real, limit) == [401] * limit
        assert await _guesses(client, "10.1.1.1, 198.51.100.1", 1) == [429]
        # Another client behind the same proxy has its own budget.
        assert await _guesses(client, "198.51.100.2", 1) == [401]
