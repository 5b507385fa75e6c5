"""Contacts, custom fields, segments and imports through the web UI."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import api_client, log_in

pytestmark = pytest.mark.e2e


def _hex() -> str:
    return uuid.uuid4().hex[:8]


def test_custom_field_then_contact_with_it_and_its_timeline(page: Page) -> None:
    suffix = _hex()
    label = f"Favourite colour {suffix}"
    email = f"ada.{suffix}@example.com"
    log_in(page)

    # A custom field, created on the Custom fields page (its alias derived from the label).
    page.goto("/settings/fields")
    expect(page.get_by_role("heading", level=1, name="Custom fields")).to_be_visible()
    page.get_by_role("button", name="New field").click()
    dialog = page.get_by_role("dialog", name="New contact field")
    dialog.get_by_label("Label").fill(label)
    expect(dialog.get_by_label("Alias")).to_have_value(f"favourite_colour_{suffix}")
    dialog.get_by_label("Type").select_option("text")
    dialog.get_by_role("button", name="Create").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("table", name="Contact fields").get_by_text(label)).to_be_visible()

    # A contact with a value for it.
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="All contacts"
    ).click()
    expect(page.get_by_role("heading", level=1, name="Contacts")).to_be_visible()
    page.get_by_role("button", name="New contact").click()
    dialog = page.get_by_role("dialog", name="New contact")
    dialog.get_by_label("Email").fill(email)
    dialog.get_by_label("First name").fill("Ada")
    dialog.get_by_label("Last name").fill("Lovelace")
    dialog.get_by_label(label).fill("teal")
    dialog.get_by_label("Tags").fill("pioneer")
    dialog.get_by_label("Tags").press("Enter")
    dialog.get_by_role("button", name="Create").click()
    expect(dialog).to_be_hidden()

    # Its page shows the field and the timeline.
    expect(page).to_have_url(re.compile(r"/contacts/\d+$"))
    expect(page.get_by_role("heading", level=1, name="Ada Lovelace")).to_be_visible()
    fields = page.get_by_role("region", name="Custom")
    expect(fields.get_by_text(label, exact=True)).to_be_visible()
    expect(fields.get_by_text("teal", exact=True)).to_be_visible()
    timeline = page.get_by_role("list", name="Timeline")
    expect(timeline.get_by_text("Contact created")).to_be_visible()

    # An inline edit, saved with If-Match, appears in the timeline as old -> new.
    page.get_by_role("button", name=f"Edit {label}").click()
    editor = page.get_by_role("group", name=f"Edit {label}")
    editor.get_by_label(label).fill("crimson")
    editor.get_by_role("button", name="Save").click()
    expect(fields.get_by_text("crimson", exact=True)).to_be_visible()
    change = timeline.get_by_role("list", name="Field changes").filter(has_text=label)
    expect(change).to_contain_text("teal -> crimson")

    # A server-side error shows on the field itself.
    page.get_by_role("button", name="Edit Email").click()
    editor = page.get_by_role("group", name="Edit Email")
    editor.get_by_label("Email").fill("not-an-email")
    editor.get_by_role("button", name="Save").click()
    expect(editor.get_by_text(re.compile("valid email", re.I))).to_be_visible()


def test_segment_live_count_equals_count_after_rebuild(page: Page, base_url: str) -> None:
    tag = f"e2e-{_hex()}"
    client = api_client(base_url)
    try:
        for i, points in enumerate([25, 40, 11, 3, 0]):
            response = client.post(
                "/api/v2/contacts",
                json={
                    "email": f"{tag}-{i}@example.com",
                    "first_name": f"P{i}",
                    "tags": [tag],
                    "points": points,
                },
            )
            assert response.status_code == 201, response.text
        # Points but not the tag: must not match.
        response = client.post(
            "/api/v2/contacts", json={"email": f"{tag}-other@example.com", "points": 99}
        )
        assert response.status_code == 201, response.text
    finally:
        client.close()

    log_in(page)
    page.goto("/segments")
    expect(page.get_by_role("heading", level=1, name="Segments")).to_be_visible()
    page.get_by_role("button", name="New segment").click()
    expect(page.get_by_role("heading", level=1, name="New segment")).to_be_visible()
    page.get_by_label("Name", exact=True).fill(f"High scorers {tag}")

    live = page.get_by_test_id("live-count")
    page.get_by_role("button", name="Add condition", exact=True).click()
    first = page.get_by_role("group", name="Condition 1", exact=True)
    first.get_by_label("Condition 1: filter").select_option("tags")
    first.get_by_label("Condition 1: operator").select_option("has_any")
    first.get_by_label("Condition 1: value").fill(tag)
    first.get_by_label("Condition 1: value").press("Enter")
    expect(live).to_have_text("5")

    # A nested OR group: points above 20, or points between 10 and 12.
    page.get_by_role("button", name="Add group", exact=True).click()
    group = page.get_by_role("group", name="Group 2", exact=True)
    cond = group.get_by_role("group", name="Condition 2.1", exact=True)
    cond.get_by_label("Condition 2.1: filter").select_option("points")
    cond.get_by_label("Condition 2.1: operator").select_option(">")
    cond.get_by_label("Condition 2.1: value").fill("20")
    expect(live).to_have_text("2")
    group.get_by_role("button", name="Add condition to group 2").click()
    cond = group.get_by_role("group", name="Condition 2.2", exact=True)
    cond.get_by_label("Condition 2.2: filter").select_option("points")
    cond.get_by_label("Condition 2.2: operator").select_option("between")
    cond.get_by_label("Condition 2.2: value from").fill("10")
    cond.get_by_label("Condition 2.2: value to").fill("12")
    expect(live).to_have_text("3")

    # A wrong value is reported next to its condition (a 422 pointing at it).
    cond.get_by_label("Condition 2.2: value to").fill("")
    expect(cond).to_contain_text(re.compile(r"number|required|pair|two", re.I))
    cond.get_by_label("Condition 2.2: value to").fill("12")
    expect(live).to_have_text("3")
    live_count = live.inner_text()

    page.get_by_role("button", name="Create segment").click()
    expect(page).to_have_url(re.compile(r"/segments/\d+$"))
    expect(page.get_by_role("heading", level=1, name=f"High scorers {tag}")).to_be_visible()
    page.get_by_role("button", name="Rebuild now").click()
    expect(page.get_by_text(re.compile(rf"^{live_count} members · built"))).to_be_visible(
        timeout=60_000
    )
    expect(live).to_have_text(live_count)

    page.get_by_role("tab", name=re.compile(r"^Members")).click()
    members = page.get_by_role("table", name="Members")
    expect(members.get_by_role("row")).to_have_count(int(live_count) + 1)


def test_import_wizard_reports_the_broken_row(page: Page, tmp_path: Path) -> None:
    tag = _hex()
    csv = tmp_path / "people.csv"
    csv.write_text(
        "Email,First name,Country\n"
        f"one.{tag}@example.com,One,FR\n"
        f"broken-{tag},Broken,DE\n"
        f"two.{tag}@example.com,Two,US\n",
        encoding="utf-8",
    )
    log_in(page)
    page.goto("/contacts/import")
    expect(page.get_by_role("heading", level=1, name="Import contacts")).to_be_visible()
    page.locator("input[type=file]").set_input_files(str(csv))

    mapping = page.get_by_role("table", name="Column mapping")
    expect(mapping).to_be_visible()
    expect(page.get_by_label("Field for column Email")).to_have_value("email")
    expect(page.get_by_label("Field for column First name")).to_have_value("first_name")
    expect(page.get_by_label("Field for column Country")).to_have_value("country")
    page.get_by_label("Tags").fill(f"import-{tag}")
    page.get_by_label("Tags").press("Enter")
    page.get_by_role("button", name="Start import").click()

    expect(page).to_have_url(re.compile(r"/contacts/import/\d+$"))
    expect(page.get_by_text("Import finished")).to_be_visible(timeout=60_000)
    counts = page.get_by_label("Import counts")
    expect(counts).to_contain_text("Created2")
    expect(counts).to_contain_text("Failed1")
    errors = page.get_by_role("table", name="Import errors")
    row = errors.get_by_role("row").filter(has_text=f"broken-{tag}")
    expect(row).to_contain_text("3")
    expect(row).to_contain_text("Email")
    expect(page.get_by_role("link", name="Download errors.csv")).to_have_attribute(
        "href", re.compile(r"/api/v2/imports/\d+/errors\.csv$")
    )

    # The import is listed among past imports.
    page.get_by_role("link", name="Import another file").click()
    expect(
        page.get_by_role("table", name="Past imports").get_by_role("link", name="people.csv").first
    ).to_be_visible()
