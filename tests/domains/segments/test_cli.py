"""``trellis segments update``: a summary per segment, one-line failures."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from sqlalchemy import update

from tests.domains.campaigns.helpers import campaign, edge, step
from tests.domains.emails.helpers import create_email
from tests.domains.forms.helpers import create_form
from tests.domains.segments.conftest import World, cond
from tests.fixtures.api import Harness
from tests.fixtures.cli import Cli, run_trellis
from tests.fixtures.database import DatabaseUnderTest
from trellis.clock import parse_instant
from trellis.db.models import Segment
from trellis.db.session import Database, create_engine
from trellis.settings import get_settings

# Each command is a fresh process, as a user runs it; on a loaded machine a start-up takes
# seconds, so these tests get more than the default time.
pytestmark = pytest.mark.timeout(900)

T = TypeVar("T")


@pytest.fixture
def cli_env(
    tmp_path: Path, test_database: DatabaseUnderTest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    monkeypatch.setenv("TRELLIS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TRELLIS_DATABASE__URL", test_database.url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_update_rebuilds_and_reports(test_database: DatabaseUnderTest, cli_env: None) -> None:
    async def prepare(world: World) -> tuple[int, int]:
        await world.contact(email="a@example.com", points=10, created_at=_at("2026-03-01T10:00"))
        await world.contact(email="b@example.com", points=1, created_at=_at("2026-03-02T10:00"))
        hot = await world.segment("Hot", cond("points", ">=", 10))
        new = await world.segment("New today", cond("created", "=", "today"))
        return hot, new

    hot, new = in_world(test_database, prepare)

    result = run_trellis(["segments", "update", "--now", "2026-03-02T12:00:00Z"])
    assert result.exit_code == 0, result.output
    assert f"segment {hot} 'Hot': 1 joined, 0 left, 1 members" in result.stdout
    assert f"segment {new} 'New today': 1 joined, 0 left, 1 members" in result.stdout

    # The next day, "today" holds no one: --now moves time for relative dates.
    later = run_trellis(
        ["segments", "update", "--segment", str(new), "--now", "2026-03-03T12:00:00Z"]
    )
    assert later.exit_code == 0, later.output
    assert f"segment {new} 'New today': 0 joined, 1 left, 0 members" in later.stdout
    assert "'Hot'" not in later.stdout


def test_failures_are_one_line_and_non_zero(
    test_database: DatabaseUnderTest, cli_env: None
) -> None:
    missing = run_trellis(["segments", "update", "--segment", "4242"])
    assert missing.exit_code == 1
    assert "No segment with id 4242" in missing.output
    bad_now = run_trellis(["segments", "update", "--now", "yesterday-ish"])
    assert bad_now.exit_code == 1
    assert "--now" in bad_now.output

    async def prepare(world: World) -> None:
        broken = await world.segment("Broken", cond("points", ">", 1))
        async with world.database.unit_of_work() as session:
            await session.execute(
                update(Segment)
                .where(Segment.id == broken)
                .values(filters={"match": "all", "conditions": [cond("points", "~", 1)]})
            )

    in_world(test_database, prepare)
    failed = run_trellis(["segments", "update"])
    assert failed.exit_code == 1
    # One message (rich may wrap it to the terminal's width).
    message = " ".join(failed.output.split())
    assert message.startswith("error: segment")
    assert "invalid filters at /filters/conditions/0/operator" in message


def _at(text: str) -> datetime:
    return parse_instant(text)


def in_world(test_database: DatabaseUnderTest, work: Callable[[World], Awaitable[T]]) -> T:
    async def run() -> T:
        database = Database(create_engine(test_database.url))
        try:
            return await work(World(database))
        finally:
            await database.dispose()

    return asyncio.run(run())


async def test_every_filter_type_made_by_the_server_rebuilds_in_the_cli(
    harness: Harness, admin: httpx.AsyncClient, cli: Cli
) -> None:
    """A segment of each filter type, created through the API, then rebuilt by
    `trellis segments update` in a process of its own (as cron runs it)."""
    await admin.post("/api/v2/fields", json={"label": "Score", "alias": "score", "type": "number"})
    company_field = {"label": "Tier", "alias": "tier", "type": "text", "object": "company"}
    assert (await admin.post("/api/v2/fields", json=company_field)).status_code == 201
    stage = (await admin.post("/api/v2/stages", json={"name": "Lead"})).json()
    email = await create_email(admin)
    form = await create_form(admin)
    points = step("contact.change_points", {"delta": 1})
    journey = await campaign(admin, events=[points], edges=[edge(None, points)], publish=False)
    person = (
        await admin.post(
            "/api/v2/contacts",
            json={"email": "ada@example.com", "city": "Paris", "points": 12, "tags": ["vip"]},
        )
    ).json()
    base = await admin.post(
        "/api/v2/segments",
        json={
            "name": "Everyone",
            "filters": {"match": "all", "conditions": [cond("points", ">=", 0)]},
            "is_published": True,
        },
    )
    assert base.status_code == 201, base.text
    conditions = {
        "field": cond("field", "=", "Paris", "city"),
        "custom_field": cond("custom_field", ">", 5, "score"),
        "company_field": cond("company_field", "contains", "gold", "tier"),
        "tags": cond("tags", "has_any", ["vip"]),
        "points": cond("points", ">=", 10),
        "stage": cond("stage", "in", [stage["id"]]),
        "owner": cond("owner", "not_in", [999_999]),
        "dnc": cond("dnc", "not_on", field="email"),
        "segment": cond("segment", "in", [base.json()["id"]]),
        "created": cond("created", "<", "2100-01-01"),
        "last_active": cond("last_active", "empty"),
        "email_opened": cond("email_opened", "not_in", [email["id"]]),
        "email_clicked": cond("email_clicked", "not_in", [email["id"]]),
        "form_submitted": cond("form_submitted", "not_in", [form["id"]]),
        "form_submitted_value": {
            "type": "form_submitted_value",
            "field": "first_name",
            "operator": "!=",
            "value": {"form_id": form["id"], "value": "Ada"},
        },
        "visited_url": cond("visited_url", "contains", "/pricing"),
        "campaign": cond("campaign", "not_in", [journey["id"]]),
        "consent": cond("consent", "!=", "marketing"),
    }
    catalogue = (await admin.get("/api/v2/segment-filter-types")).json()
    assert sorted(conditions) == sorted(kind["key"] for kind in catalogue)
    for key, condition in conditions.items():
        created = await admin.post(
            "/api/v2/segments",
            json={
                "name": f"By {key}",
                "filters": {"match": "all", "conditions": [condition]},
                "is_published": True,
            },
        )
        assert created.status_code == 201, (key, created.text)

    result = cli("segments", "update")
    assert result.exit_code == 0, result.output
    for key in conditions:
        assert f"'By {key}'" in result.stdout, (key, result.stdout)
    assert person["id"]
