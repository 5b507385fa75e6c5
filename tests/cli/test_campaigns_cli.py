"""`trellis campaigns trigger --now` walks a campaign through weeks in seconds."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.cli import run_trellis
from tests.fixtures.database import DatabaseUnderTest
from trellis.api.app import create_app
from trellis.settings import get_settings

# Each command is a fresh process, as a user runs it; on a loaded machine a start-up takes
# seconds, so these tests get more than the default time.
pytestmark = pytest.mark.timeout(900)


@pytest.fixture
def env(
    tmp_path: Path, test_database: DatabaseUnderTest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    monkeypatch.setenv("TRELLIS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TRELLIS_DATABASE__URL", test_database.url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def api(calls: list[tuple[str, str, dict[str, Any] | None]], token: str) -> list[Any]:
    async def go() -> list[Any]:
        app = create_app(get_settings(), run_services=False)
        results = []
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://t",
            headers={"Authorization": f"Bearer {token}"},
        ) as client:
            for method, path, body in calls:
                response = await client.request(method, path, json=body)
                assert response.status_code < 300, response.text
                results.append(response.json())
        await app.state.database.dispose()
        return results

    return asyncio.run(go())


def test_trigger_with_now_runs_a_two_week_journey(env: None) -> None:
    assert (
        run_trellis(
            ["users", "create", "--email", "ops@example.com", "--password", "Long-enough-pass-1"],
        ).exit_code
        == 0
    )
    token = run_trellis(["tokens", "create", "--user", "ops@example.com"]).stdout
    token = token.strip().splitlines()[-1]
    events = [
        {
            "key": "day1",
            "type": "contact.change_tags",
            "config": {"add": ["day-1"]},
            "timing": {"mode": "interval", "amount": 1, "unit": "day"},
        },
        {
            "key": "week2",
            "type": "contact.change_tags",
            "config": {"add": ["week-2"]},
            "timing": {"mode": "interval", "amount": 13, "unit": "day", "at_hour": "09:00"},
        },
    ]
    contact, campaign = api(
        [
            ("POST", "/api/v2/contacts", {"email": "walk@example.com", "timezone": "UTC"}),
            (
                "POST",
                "/api/v2/campaigns",
                {
                    "name": "Walk",
                    "events": events,
                    "edges": [
                        {"source": None, "target": "day1"},
                        {"source": "day1", "target": "week2"},
                    ],
                },
            ),
        ],
        token,
    )
    api([("POST", f"/api/v2/campaigns/{campaign['id']}/publish", None)], token)
    # Entered "now" (the real time); the CLI then walks forward.
    api(
        [("POST", f"/api/v2/campaigns/{campaign['id']}/members", {"contact_ids": [contact["id"]]})],
        token,
    )

    def tags() -> list[str]:
        return list(api([("GET", f"/api/v2/contacts/{contact['id']}", None)], token)[0]["tags"])

    from datetime import UTC, datetime, timedelta

    start = datetime.now(UTC)
    result = run_trellis(
        ["campaigns", "trigger", "--now", (start + timedelta(days=1, minutes=1)).isoformat()]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert (summary["executed"], summary["scheduled"]) == (1, 1)
    assert tags() == ["day-1"]
    early = run_trellis(["campaigns", "trigger", "--now", (start + timedelta(days=10)).isoformat()])
    assert json.loads(early.stdout.strip().splitlines()[-1])["executed"] == 0
    late = run_trellis(["campaigns", "trigger", "--now", (start + timedelta(days=16)).isoformat()])
    assert json.loads(late.stdout.strip().splitlines()[-1])["executed"] == 1
    assert tags() == ["day-1", "week-2"]


def test_bad_now_is_a_one_line_error(env: None) -> None:
    result = run_trellis(["campaigns", "trigger", "--now", "next tuesday"])
    assert result.exit_code == 1
    assert "--now must be an ISO 8601 time" in result.output
