"""The import wizard with a Mautic 7 export: upload, review the report, import, open, undo."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.domains.portability.helpers import mautic_zip
from tests.e2e.helpers import api_client, log_in

pytestmark = pytest.mark.e2e


def test_a_mautic_export_imports_through_the_wizard(
    page: Page, base_url: str, tmp_path: Path
) -> None:
    export = tmp_path / "mautic-trial-onboarding.zip"
    export.write_bytes(mautic_zip())

    log_in(page)
    page.goto(f"{base_url}/campaigns/import")
    expect(page.get_by_role("heading", level=1, name="Import campaigns")).to_be_visible()
    page.locator("input[type=file]").set_input_files(str(export))

    # Review: what was not translated, and every entity of the file, all new here.
    expect(page.get_by_text("Not translated from Mautic")).to_be_visible()
    expect(page.get_by_text("plugin.leadpush")).to_be_visible()
    rows = page.get_by_role("row")
    for kind, name in (
        ("Campaign", "Trial onboarding"),
        ("Email", "Welcome"),
        ("Form", "Trial signup"),
        ("Segment", "Trial users"),
        ("Asset", "Price list"),
    ):
        expect(rows.filter(has_text=kind).filter(has_text=name)).to_contain_text("new")

    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#main-content").get_by_text("Import done")).to_be_visible()
    link = page.get_by_role("link", name=re.compile(r"Open imported campaign \d+"))
    campaign_id = int(re.findall(r"\d+", link.inner_text())[0])

    client = api_client(base_url)
    try:
        campaign = client.get(f"/api/v2/campaigns/{campaign_id}").json()
    finally:
        client.close()
    assert campaign["name"] == "Trial onboarding"
    assert campaign["is_published"] is False
    assert {e["name"] for e in campaign["events"]} >= {"Welcome email", "Opened welcome?"}

    # Undo removes what the import created.
    page.get_by_role("button", name="Undo this import").click()
    expect(page.locator("#main-content").get_by_text("Import undone")).to_be_visible()
    client = api_client(base_url)
    try:
        assert client.get(f"/api/v2/campaigns/{campaign_id}").status_code == 404
    finally:
        client.close()
