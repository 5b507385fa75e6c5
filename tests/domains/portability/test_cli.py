"""`trellis campaigns export ID... -o FILE` and `trellis campaigns import FILE [--dry-run]
[--choice UUID=...]`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.domains.portability.helpers import (
    MAUTIC_ASSET,
    MAUTIC_FIXTURE,
    build_world,
    manifest_of,
    mautic_zip,
)
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


def world_through_the_api(token: str) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        app = create_app(get_settings(), run_services=False)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://t",
            headers={"Authorization": f"Bearer {token}"},
        ) as client:
            world = await build_world(client)
        await app.state.database.dispose()
        return world

    return asyncio.run(go())


def test_export_then_dry_run_then_import_a_copy(env: None, tmp_path: Path) -> None:
    created = run_trellis(
        ["users", "create", "--email", "ops@example.com", "--password", "Long-enough-pass-1"]
    )
    assert created.exit_code == 0, created.output
    token = run_trellis(["tokens", "create", "--user", "ops@example.com"])
    assert token.exit_code == 0, token.output
    world = world_through_the_api(token.stdout.strip().splitlines()[-1])
    target = tmp_path / "out.zip"

    exported = run_trellis(["campaigns", "export", str(world["campaign"]["id"]), "-o", str(target)])

    assert exported.exit_code == 0, exported.output
    manifest = manifest_of(target.read_bytes())
    assert len(manifest["entities"]["campaign"]) == 2
    dry = run_trellis(["campaigns", "import", str(target), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    analysis = json.loads(dry.stdout.strip().splitlines()[-1])
    assert {e["status"] for e in analysis["entities"]} == {"identical"}
    onboarding = manifest["campaigns"][0]
    applied = run_trellis(["campaigns", "import", str(target), "--choice", f"{onboarding}=copy"])
    assert applied.exit_code == 0, applied.output
    result = json.loads(applied.stdout.strip().splitlines()[-1])
    assert result["created"] == {"campaign": result["campaign_ids"]}
    assert result["campaign_ids"] != [world["campaign"]["id"]]

    bad = run_trellis(["campaigns", "import", str(target), "--choice", "x=steal"])
    assert bad.exit_code != 0
    assert "--choice" in bad.output
    broken = tmp_path / "broken.zip"
    broken.write_bytes(target.read_bytes()[:100])
    truncated = run_trellis(["campaigns", "import", str(broken)])
    assert truncated.exit_code == 1
    assert "truncated" in truncated.output


def test_dry_run_of_a_mautic_export_prints_the_translation_report(
    env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "mautic-campaign.zip"
    target.write_bytes(mautic_zip())

    dry = run_trellis(["campaigns", "import", str(target), "--dry-run"])

    assert dry.exit_code == 0, dry.output
    assert "not translated from Mautic: /0/campaign_event/11/type  Push to CRM" in dry.output
    analysis = json.loads(dry.stdout.strip().splitlines()[-1])
    assert analysis["source"] == "mautic"
    assert {e["status"] for e in analysis["entities"]} == {"new"}
    assert len(analysis["notes"]) == 5
    applied = run_trellis(["campaigns", "import", str(target)])
    assert applied.exit_code == 0, applied.output
    result = json.loads(applied.stdout.strip().splitlines()[-1])
    assert len(result["campaign_ids"]) == 1
    assert result["notes"] == analysis["notes"]
    # The asset's file went to the data directory, not to the working directory.
    assert [f.read_text() for f in (tmp_path / "data" / "assets").iterdir()] == [
        (MAUTIC_FIXTURE / "assets" / MAUTIC_ASSET).read_text()
    ]
    assert not (tmp_path / "assets").exists()
