"""Settings > Data retention (a period set, a dry run, a run, the result) and a contact's
personal-data export, in the browser."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import uuid
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server
from tests.e2e.helpers import api_client, log_in

pytestmark = pytest.mark.e2e


def _old_page_hit(trellis_server: Server, url: str) -> bool:
    """A page hit from two years ago, written where the server keeps its embedded database
    (nothing in the UI or the API can date a hit in the past)."""
    if os.environ.get("TRELLIS_DATABASE__URL"):
        return False
    database = trellis_server.log.parent / "trellis.db"
    old = (datetime.now(UTC) - timedelta(days=730)).strftime("%Y-%m-%d %H:%M:%S.%f")
    with sqlite3.connect(database) as conn:
        conn.execute(
            "INSERT INTO page_hits (visitor_id, site, url, url_hash, title, referrer, device, "
            "created_at) VALUES (?, '', ?, 'x', 'Old', '', 'desktop', ?)",
            (uuid.uuid4().hex, url, old),
        )
    return True


def test_set_a_period_dry_run_run_and_see_the_result(
    page: Page, base_url: str, trellis_server: Server
) -> None:
    seeded = _old_page_hit(trellis_server, f"https://www.example.com/{uuid.uuid4().hex}")
    log_in(page)
    page.goto("/settings/data-retention")
    expect(page.get_by_role("heading", level=1, name="Data retention")).to_be_visible()
    policy = page.get_by_role("region", name="Page hits, email opens and clicks, tracking events")
    period = policy.get_by_label("Period (days)")
    period.fill("200")
    policy.get_by_role("button", name="Save period").click()
    expect(page.get_by_text("saved")).to_be_visible()
    client = api_client(base_url)
    try:
        policies = {p["name"]: p for p in client.get("/api/v2/privacy/retention").json()}
        assert policies["tracking_events"]["period"] == 200
    finally:
        client.close()

    page.get_by_role("button", name="Dry run").click()
    notice = page.get_by_text("Dry run: nothing was removed")
    expect(notice).to_be_visible()
    if seeded:
        expect(page.get_by_text("tracking events: Would remove")).to_be_visible()

    page.get_by_role("button", name="Run now").click()
    history = page.get_by_role("table", name="Run history")
    expect(history.get_by_text("Removed", exact=False).first).to_be_visible(timeout=30_000)
    expect(history.get_by_text("Run (api)").first).to_be_visible()
    if seeded:
        expect(history.get_by_text("page hits 1").first).to_be_visible()


def test_a_contacts_export_downloads_with_every_section(page: Page, base_url: str) -> None:
    email = f"export-{uuid.uuid4().hex[:8]}@example.com"
    client = api_client(base_url)
    try:
        created = client.post(
            "/api/v2/contacts", json={"email": email, "first_name": "Ada", "tags": ["vip"]}
        )
        assert created.status_code == 201, created.text
        contact_id = created.json()["id"]
        consent = client.post(
            f"/api/v2/contacts/{contact_id}/consents",
            json=[{"purpose": "newsletter", "granted": True, "wording": "Send me news"}],
        )
        assert consent.status_code == 201, consent.text
    finally:
        client.close()

    log_in(page)
    page.goto(f"/contacts/{contact_id}")
    privacy = page.get_by_role("region", name="Privacy")
    expect(privacy.get_by_text("newsletter: given")).to_be_visible()
    expect(privacy.get_by_role("table", name="Consent history")).to_contain_text("Send me news")
    with page.expect_download() as info:
        privacy.get_by_role("link", name="Export personal data").click()
    download = info.value
    assert download.suggested_filename == f"contact-{contact_id}-personal-data.zip"
    path = download.path()
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
        names = set(archive.namelist())
        assert {"index.html", "contact.json", "tags.json", "consents.json"} <= names
        assert json.loads(archive.read("contact.json"))[0]["email"] == email
        assert json.loads(archive.read("tags.json")) == [{"name": "vip"}]
        assert email in archive.read("index.html").decode()
