"""Browser sign-in with cookies and CSRF, throttling, lockout, first-run setup, tokens."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from tests.fixtures.api import ADMIN_EMAIL, PASSWORD, Harness
from trellis.domains.users import security


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/api/v2/auth/login", json={"email": email, "password": password})


async def test_setup_creates_the_first_administrator_once(harness: Harness) -> None:
    async with harness.client() as client:
        assert (await client.get("/api/v2/setup")).json() == {"needs_setup": True}
        weak = await client.post(
            "/api/v2/setup", json={"email": "owner@example.com", "password": "short"}
        )
        assert weak.status_code == 422
        assert weak.json()["errors"][0]["pointer"] == "/password"
        created = await client.post(
            "/api/v2/setup",
            json={"email": "Owner@Example.com", "name": "Owner", "password": PASSWORD},
        )
        assert created.status_code == 201
        assert created.json()["user"]["email"] == "owner@example.com"
        assert created.json()["is_admin"] is True
        # The setup signs the new administrator in.
        assert (await client.get("/api/v2/auth/me")).status_code == 200
        assert (await client.get("/api/v2/setup")).json() == {"needs_setup": False}
        again = await client.post(
            "/api/v2/setup", json={"email": "intruder@example.com", "password": PASSWORD}
        )
        assert again.status_code == 409


async def test_cookie_session_requires_csrf_for_writes(harness: Harness) -> None:
    await harness.create_user(ADMIN_EMAIL)
    async with harness.client() as browser:
        response = await login(browser, ADMIN_EMAIL.upper())
        assert response.status_code == 200
        set_cookies = response.headers.get_list("set-cookie")
        session_cookie = next(c for c in set_cookies if c.startswith("trellis_session="))
        assert "HttpOnly" in session_cookie
        assert "SameSite=lax" in session_cookie
        csrf = browser.cookies["trellis_csrf"]

        me = await browser.get("/api/v2/auth/me")
        assert me.json()["user"]["email"] == ADMIN_EMAIL

        without = await browser.post("/api/v2/projects", json={"name": "P"})
        assert without.status_code == 403
        wrong = await browser.post(
            "/api/v2/projects", json={"name": "P"}, headers={"X-CSRF-Token": "nope"}
        )
        assert wrong.status_code == 403
        ok = await browser.post(
            "/api/v2/projects", json={"name": "P"}, headers={"X-CSRF-Token": csrf}
        )
        assert ok.status_code == 201

        out = await browser.post("/api/v2/auth/logout", headers={"X-CSRF-Token": csrf})
        assert out.status_code == 204
        assert (await browser.get("/api/v2/auth/me")).status_code == 401


async def test_stolen_cookie_stops_working_after_logout(harness: Harness) -> None:
    await harness.create_user(ADMIN_EMAIL)
    async with harness.client() as browser:
        await login(browser, ADMIN_EMAIL)
        secret = browser.cookies["trellis_session"]
        await browser.post(
            "/api/v2/auth/logout", headers={"X-CSRF-Token": browser.cookies["trellis_csrf"]}
        )
    async with harness.client() as thief:
        thief.cookies.set("trellis_session", secret)
        assert (await thief.get("/api/v2/auth/me")).status_code == 401


async def test_session_expires(harness: Harness) -> None:
    await harness.create_user(ADMIN_EMAIL)
    async with harness.client() as browser:
        await login(browser, ADMIN_EMAIL)
        harness.clock.advance(timedelta(hours=harness.settings.auth.session_hours, minutes=1))
        assert (await browser.get("/api/v2/auth/me")).status_code == 401


async def test_wrong_password_and_unknown_email_look_the_same(harness: Harness) -> None:
    await harness.create_user(ADMIN_EMAIL)
    async with harness.client() as client:
        wrong = await login(client, ADMIN_EMAIL, "Wrong-password-1")
        unknown = await login(client, "nobody@example.com")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


def client_from(harness: Harness, ip: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=harness.app, client=(ip, 40000)),
        base_url="http://testserver",
    )


async def test_failures_slow_an_account_down_without_locking_the_owner_out(
    harness: Harness,
) -> None:
    await harness.create_user(ADMIN_EMAIL)
    policy = harness.settings.auth
    async with harness.client() as client:
        for _ in range(policy.login_free_failures):
            assert (await login(client, ADMIN_EMAIL, "Wrong-password-1")).status_code == 401
        # The next attempt must wait, even with the right password: guessing is slowed down.
        waiting = await login(client, ADMIN_EMAIL)
        assert waiting.status_code == 429
        assert int(waiting.headers["retry-after"]) == 1
        # Every further failure doubles the wait, but never past the cap.
        for _ in range(12):
            harness.clock.advance(timedelta(seconds=policy.login_max_delay_s))
            assert (await login(client, ADMIN_EMAIL, "Wrong-password-1")).status_code == 401
        capped = await login(client, ADMIN_EMAIL)
        assert capped.status_code == 429
        assert int(capped.headers["retry-after"]) == policy.login_max_delay_s
    # The owner, from another address, gets in once the (short) wait is over.
    harness.clock.advance(timedelta(seconds=policy.login_max_delay_s))
    async with client_from(harness, "198.51.100.20") as owner:
        assert (await login(owner, ADMIN_EMAIL)).status_code == 200
    # A success starts the count again.
    async with harness.client() as client:
        for _ in range(policy.login_free_failures):
            assert (await login(client, ADMIN_EMAIL, "Wrong-password-1")).status_code == 401


async def test_unknown_accounts_are_throttled_exactly_like_existing_ones(
    harness: Harness,
) -> None:
    await harness.create_user(ADMIN_EMAIL)
    free = harness.settings.auth.login_free_failures
    answers: dict[str, list[tuple[int, str, str | None]]] = {}
    for email in (ADMIN_EMAIL, "nobody@example.com"):
        async with harness.client() as client:
            responses = [await login(client, email, "Wrong-password-1") for _ in range(free + 1)]
        answers[email] = [
            (r.status_code, r.json()["detail"], r.headers.get("retry-after")) for r in responses
        ]
    assert answers[ADMIN_EMAIL] == answers["nobody@example.com"]
    assert [status for status, _, _ in answers[ADMIN_EMAIL]] == [401] * free + [429]


async def test_sign_in_attempts_are_throttled_per_address(harness: Harness) -> None:
    limit = harness.settings.auth.login_attempts_per_minute_per_ip
    async with harness.client() as client:
        for index in range(limit):
            response = await login(client, f"guess{index}@example.com")
            assert response.status_code == 401
        throttled = await login(client, "guess-last@example.com")
        assert throttled.status_code == 429
        harness.clock.advance(timedelta(minutes=2))
        assert (await login(client, "guess-again@example.com")).status_code == 401


async def test_deactivated_user_cannot_sign_in(harness: Harness, admin: httpx.AsyncClient) -> None:
    user_id = await harness.create_user("leaver@example.com", role="Marketer")
    response = await admin.patch(f"/api/v2/users/{user_id}", json={"is_active": False})
    assert response.status_code == 200
    async with harness.client() as client:
        assert (await login(client, "leaver@example.com")).status_code == 401


async def test_change_password_signs_out_other_sessions(harness: Harness) -> None:
    await harness.create_user(ADMIN_EMAIL)
    async with harness.client() as first, harness.client() as second:
        await login(first, ADMIN_EMAIL)
        await login(second, ADMIN_EMAIL)
        response = await first.post(
            "/api/v2/auth/password",
            json={"current_password": PASSWORD, "new_password": "Another-secret-77"},
            headers={"X-CSRF-Token": first.cookies["trellis_csrf"]},
        )
        assert response.status_code == 204
        assert (await first.get("/api/v2/auth/me")).status_code == 200
        assert (await second.get("/api/v2/auth/me")).status_code == 401
    async with harness.client() as client:
        assert (await login(client, ADMIN_EMAIL)).status_code == 401
        assert (await login(client, ADMIN_EMAIL, "Another-secret-77")).status_code == 200


async def test_a_session_ends_at_its_absolute_lifetime_however_much_it_is_used(
    harness: Harness,
) -> None:
    await harness.create_user(ADMIN_EMAIL)
    auth = harness.settings.auth
    assert auth.session_max_hours > auth.session_hours
    async with harness.client() as browser:
        assert (await login(browser, ADMIN_EMAIL)).status_code == 200
        used_for = timedelta(0)
        step = timedelta(hours=1)
        while used_for + step < timedelta(hours=auth.session_max_hours):
            harness.clock.advance(step)
            used_for += step
            assert (await browser.get("/api/v2/auth/me")).status_code == 200, used_for
            # The sliding expiry is written after the request, in a batch.
            await harness.app.state.credential_uses.flush()
        harness.clock.advance(step)
        assert (await browser.get("/api/v2/auth/me")).status_code == 401


async def test_the_csrf_token_is_compared_in_constant_time(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[str, str]] = []
    original = security.same_secret

    def spy(a: str, b: str) -> bool:
        compared.append((a, b))
        return original(a, b)

    monkeypatch.setattr(security, "same_secret", spy)
    await harness.create_user(ADMIN_EMAIL)
    async with harness.client() as browser:
        await login(browser, ADMIN_EMAIL)
        csrf = browser.cookies["trellis_csrf"]
        wrong = await browser.post(
            "/api/v2/projects", json={"name": "P"}, headers={"X-CSRF-Token": "nope"}
        )
        assert wrong.status_code == 403
        right = await browser.post(
            "/api/v2/projects", json={"name": "P"}, headers={"X-CSRF-Token": csrf}
        )
        assert right.status_code == 201
    assert ("nope", csrf) in compared
    assert (csrf, csrf) in compared


async def test_successful_sign_ins_do_not_use_up_the_address_budget(harness: Harness) -> None:
    """Colleagues behind one address sign in all day; only failures count against it."""
    await harness.create_user(ADMIN_EMAIL)
    limit = harness.settings.auth.login_attempts_per_minute_per_ip
    async with harness.client() as client:
        for _ in range(limit + 5):
            assert (await login(client, ADMIN_EMAIL)).status_code == 200
        assert (await login(client, "guess@example.com")).status_code == 401
