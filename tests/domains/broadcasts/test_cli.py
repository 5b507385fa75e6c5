"""`trellis emails broadcasts run --now` starts, queues, delivers and finishes broadcasts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.domains.emails.helpers import MJML
from tests.fixtures.cli import run_trellis
from tests.fixtures.database import DatabaseUnderTest
from trellis.api.app import create_app
from trellis.settings import get_settings

# Each command is a fresh process, as a user runs it; on a loaded machine a start-up takes
# seconds, so these tests get more than the default time.
pytestmark = pytest.mark.timeout(900)

START = "2030-01-07T09:00:00Z"


@pytest.fixture
def env(
    tmp_path: Path, test_database: DatabaseUnderTest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    monkeypatch.setenv("TRELLIS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TRELLIS_DATABASE__URL", test_database.url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def api(token: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    async def go() -> Any:
        app = create_app(get_settings(), run_services=False)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://t",
            headers={"Authorization": f"Bearer {token}"},
        ) as client:
            response = await client.request(method, path, json=body)
        await app.state.database.dispose()
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    return asyncio.run(go())


def run(now: str) -> dict[str, Any]:
    result = run_trellis(["emails", "broadcasts", "run", "--now", now])
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_run_with_now_sends_a_scheduled_broadcast_once(env: None) -> None:
    created = run_trellis(
        ["users", "create", "--email", "ops@example.com", "--password", "Long-enough-pass-1"]
    )
    assert created.exit_code == 0, created.output
    token = run_trellis(["tokens", "create", "--user", "ops@example.com"]).stdout
    token = token.strip().splitlines()[-1]
    email = api(
        token,
        "POST",
        "/api/v2/emails",
        {
            "name": "News",
            "kind": "broadcast",
            "subject": "News",
            "body": MJML,
            "is_published": True,
        },
    )
    people = [
        api(token, "POST", "/api/v2/contacts", {"email": f"p{i}@example.com"})["id"]
        for i in range(3)
    ]
    segment = api(token, "POST", "/api/v2/segments", {"name": "Everyone"})["id"]
    api(token, "POST", f"/api/v2/segments/{segment}/members", {"contact_ids": people})
    broadcast = api(
        token,
        "POST",
        "/api/v2/broadcasts",
        {"name": "January", "email_id": email["id"], "segment_ids": [segment], "start_at": START},
    )
    api(token, "POST", f"/api/v2/broadcasts/{broadcast['id']}/schedule")

    early = run("2030-01-07T08:59:00Z")
    assert early["broadcasts"] == 0
    summary = run(START)
    assert (summary["started"], summary["queued"], summary["finished"]) == (1, 3, 1)
    outbox = api(token, "GET", "/api/v2/outbox")
    assert sorted(r for m in outbox["data"] for r in m["recipients"]) == [
        "p0@example.com",
        "p1@example.com",
        "p2@example.com",
    ]
    assert api(token, "GET", f"/api/v2/broadcasts/{broadcast['id']}")["status"] == "sent"
    assert run("2030-01-07T10:00:00Z")["queued"] == 0
    assert api(token, "GET", "/api/v2/outbox")["meta"]["total"] == 3


def test_bad_now_is_a_one_line_error(env: None) -> None:
    result = run_trellis(["emails", "broadcasts", "run", "--now", "soon"])
    assert result.exit_code == 1
    assert "--now must be an ISO 8601 time" in result.output
