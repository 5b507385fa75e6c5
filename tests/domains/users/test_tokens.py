from __future__ import annotations

from datetime import timedelta

import httpx

from tests.fixtures.api import Harness


async def test_token_is_shown_once_and_stored_hashed(
    harness: Harness, admin_browser: httpx.AsyncClient
) -> None:
    created = await admin_browser.post("/api/v2/tokens", json={"name": "zapier"})
    assert created.status_code == 201
    secret = created.json()["token"]
    assert secret.startswith("trl_")
    listed = (await admin_browser.get("/api/v2/tokens")).json()["data"]
    mine = next(t for t in listed if t["name"] == "zapier")
    assert "token" not in mine
    assert secret.startswith(mine["prefix"])
    async with harness.client(token=secret) as client:
        assert (await client.get("/api/v2/projects")).status_code == 200
    # Recorded after the request, with the other uses of the moment.
    await harness.app.state.credential_uses.flush()
    listed = (await admin_browser.get("/api/v2/tokens")).json()["data"]
    assert next(t for t in listed if t["name"] == "zapier")["last_used_at"] is not None


async def test_revoked_token_is_refused(harness: Harness, admin_browser: httpx.AsyncClient) -> None:
    created = (await admin_browser.post("/api/v2/tokens", json={"name": "old"})).json()
    assert (await admin_browser.delete(f"/api/v2/tokens/{created['id']}")).status_code == 204
    async with harness.client(token=created["token"]) as client:
        assert (await client.get("/api/v2/projects")).status_code == 401


async def test_expired_token_is_refused(harness: Harness, admin_browser: httpx.AsyncClient) -> None:
    expires = (harness.clock.now() + timedelta(days=1)).isoformat()
    created = (
        await admin_browser.post("/api/v2/tokens", json={"name": "t", "expires_at": expires})
    ).json()
    async with harness.client(token=created["token"]) as client:
        assert (await client.get("/api/v2/projects")).status_code == 200
        harness.clock.advance(timedelta(days=2))
        assert (await client.get("/api/v2/projects")).status_code == 401


async def test_expiry_in_the_past_is_refused(
    harness: Harness, admin_browser: httpx.AsyncClient
) -> None:
    past = (harness.clock.now() - timedelta(days=1)).isoformat()
    response = await admin_browser.post("/api/v2/tokens", json={"name": "t", "expires_at": past})
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/expires_at"


async def test_scopes_limit_what_a_token_may_do(harness: Harness) -> None:
    async with await harness.client_as("ro@example.com", scopes=["projects:read"]) as reader:
        assert (await reader.get("/api/v2/projects")).status_code == 200
        assert (await reader.post("/api/v2/projects", json={"name": "x"})).status_code == 403
        assert (await reader.get("/api/v2/users")).status_code == 403


async def test_unknown_scope_is_refused(admin_browser: httpx.AsyncClient) -> None:
    response = await admin_browser.post(
        "/api/v2/tokens", json={"name": "t", "scopes": ["rockets:fly"]}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/scopes"


async def test_token_cannot_mint_tokens(admin: httpx.AsyncClient) -> None:
    # A leaked token must not be able to make itself a successor.
    response = await admin.post("/api/v2/tokens", json={"name": "child"})
    assert response.status_code == 403
