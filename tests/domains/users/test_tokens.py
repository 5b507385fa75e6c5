from __future__ import annotations

from datetime import timedelta

import httpx

from tests.fixtures.api import PASSWORD, Harness


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


async def test_a_scoped_token_cannot_manage_its_users_account(harness: Harness) -> None:
    user_id = await harness.create_user("owner@example.com", role="Marketer")
    scoped = await harness.create_token(user_id, scopes=["contacts:read"])
    sibling = await harness.create_token(user_id)
    async with harness.client(token=sibling) as full:
        listed = (await full.get("/api/v2/tokens")).json()["data"]
    ids = sorted(t["id"] for t in listed)
    scoped_id, sibling_id = ids[0], ids[1]
    async with harness.client(token=scoped) as client:
        assert (await client.get("/api/v2/contacts")).status_code == 200
        assert (await client.get("/api/v2/auth/me")).status_code == 200
        refused = [
            await client.patch(f"/api/v2/users/{user_id}", json={"name": "Mallory"}),
            await client.get("/api/v2/tokens"),
            await client.delete(f"/api/v2/tokens/{sibling_id}"),
            await client.post(
                "/api/v2/auth/password",
                json={"current_password": PASSWORD, "new_password": "Another-secret-77"},
            ),
        ]
        assert [r.status_code for r in refused] == [403] * 4, [r.text for r in refused]
        assert "token with scopes" in refused[0].json()["detail"]
        # It may still end itself.
        assert (await client.delete(f"/api/v2/tokens/{scoped_id}")).status_code == 204
        assert (await client.get("/api/v2/contacts")).status_code == 401
    async with harness.client(token=sibling) as full:
        assert (await full.get(f"/api/v2/users/{user_id}")).json()["name"] == ""
        # A token without scopes acts with all of its user's rights, account included.
        assert (
            await full.patch(f"/api/v2/users/{user_id}", json={"name": "Owner"})
        ).status_code == 200
        assert (await full.get("/api/v2/tokens")).status_code == 200


async def test_a_password_change_can_revoke_every_token(harness: Harness) -> None:
    user_id = await harness.create_user("owner@example.com", role="Marketer")
    program = await harness.create_token(user_id, scopes=["contacts:read"])
    async with harness.client() as browser:
        signed_in = await browser.post(
            "/api/v2/auth/login", json={"email": "owner@example.com", "password": PASSWORD}
        )
        assert signed_in.status_code == 200
        csrf = {"X-CSRF-Token": browser.cookies["trellis_csrf"]}
        kept = await browser.post(
            "/api/v2/auth/password",
            json={"current_password": PASSWORD, "new_password": "Another-secret-77"},
            headers=csrf,
        )
        assert kept.status_code == 204
        async with harness.client(token=program) as client:
            # By default programs keep working: their tokens are separate credentials.
            assert (await client.get("/api/v2/contacts")).status_code == 200
        revoked = await browser.post(
            "/api/v2/auth/password",
            json={
                "current_password": "Another-secret-77",
                "new_password": "Third-secret-777",
                "revoke_tokens": True,
            },
            headers=csrf,
        )
        assert revoked.status_code == 204
        assert (await browser.get("/api/v2/auth/me")).status_code == 200
    async with harness.client(token=program) as client:
        assert (await client.get("/api/v2/contacts")).status_code == 401
