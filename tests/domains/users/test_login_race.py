"""Parallel sign-in attempts are counted one by one: the limits hold under a burst.

On PostgreSQL the attempts really run side by side (one connection each); SQLite serialises
writers, so there the test checks the same arithmetic without the race.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx

from tests.fixtures.api import ADMIN_EMAIL, Harness

PARALLEL = 40


def client_from(harness: Harness, ip: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=harness.app, client=(ip, 40000)),
        base_url="http://testserver",
    )


async def _burst(clients: list[httpx.AsyncClient], emails: list[str]) -> Counter[int]:
    responses = await asyncio.gather(
        *(
            client.post("/api/v2/auth/login", json={"email": email, "password": "Wrong-password-1"})
            for client, email in zip(clients, emails, strict=True)
        )
    )
    return Counter(r.status_code for r in responses)


async def test_a_burst_from_one_address_gets_no_more_guesses_than_the_limit(
    harness: Harness,
) -> None:
    limit = harness.settings.auth.login_attempts_per_minute_per_ip
    clients = [client_from(harness, "203.0.113.50") for _ in range(PARALLEL)]
    try:
        statuses = await _burst(clients, [f"guess{i}@example.com" for i in range(PARALLEL)])
    finally:
        for client in clients:
            await client.aclose()
    assert statuses == Counter({401: limit, 429: PARALLEL - limit})


async def test_a_burst_on_one_account_from_many_addresses_gets_the_free_failures_only(
    harness: Harness,
) -> None:
    await harness.create_user(ADMIN_EMAIL)
    free = harness.settings.auth.login_free_failures
    clients = [client_from(harness, f"198.51.100.{i + 1}") for i in range(PARALLEL)]
    try:
        statuses = await _burst(clients, [ADMIN_EMAIL] * PARALLEL)
    finally:
        for client in clients:
            await client.aclose()
    assert statuses == Counter({401: free, 429: PARALLEL - free})
