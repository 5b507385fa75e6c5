"""Forms through the web UI: build one, publish it, submit its hosted page, see the results."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import api_client, log_in

pytestmark = pytest.mark.e2e

HOSTILE = '<script>window.__trellis_xss = 1</script><img src=x onerror="window.__trellis_xss=2">'


def _hex() -> str:
    return uuid.uuid4().hex[:8]


def test_build_publish_submit_and_see_the_results(page: Page, base_url: str) -> None:
    suffix = _hex()
    name = f"Signup {suffix}"
    alias = f"signup-{suffix}"
    email = f"visitor.{suffix}@example.com"
    consent = f"I agree to hear from Trellis ({suffix})."

    log_in(page)
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Forms", exact=True
    ).click()
    expect(page.get_by_role("heading", level=1, name="Forms")).to_be_visible()
    page.get_by_role("button", name="New form").click()
    expect(page).to_have_url(re.compile(r"/forms/new$"))

    # A new form starts with an email field mapped to the contact's email; the preview shows it.
    preview = page.get_by_test_id("form-preview")
    expect(preview.get_by_label("Email")).to_be_visible()

    # A text field whose input name follows its label, then a consent checkbox.
    page.get_by_role("button", name="Add a field").click()
    page.get_by_role("menuitem", name="Text", exact=True).click()
    page.get_by_label("Label", exact=True).fill("Company")
    expect(page.get_by_label("Input name")).to_have_value("company")
    expect(preview.get_by_label("Company")).to_be_visible()

    page.get_by_role("button", name="Add a field").click()
    page.get_by_role("menuitem", name="Consent checkbox").click()
    page.get_by_label("Consent text").fill(consent)
    expect(preview.get_by_label(consent)).to_be_visible()

    # Keyboard users reorder with buttons: move the consent field above the company field.
    page.get_by_role("button", name=re.compile(r"^Move I agree up$")).click()
    rows = page.get_by_role("list", name="Fields in display order").get_by_role("listitem")
    expect(rows.nth(1)).to_contain_text("I agree")

    page.get_by_role("tab", name=re.compile(r"^Settings")).click()
    page.get_by_label("Name", exact=True).fill(name)
    expect(page.get_by_label("Address (slug)")).to_have_value(alias)
    page.get_by_text("Published (accepts submissions)").click()
    origins = page.get_by_label("Allowed origins")
    origins.fill("https://www.example.com")
    origins.press("Enter")
    expect(page.get_by_role("group", name="Allowed origins: selected")).to_contain_text(
        "https://www.example.com"
    )
    page.get_by_role("button", name="Create form").click()
    expect(page).to_have_url(re.compile(r"/forms/\d+$"))
    form_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()

    # The embed tab gives the hosted URL, the script and the plain HTML.
    page.get_by_role("tab", name="Embed").click()
    expect(page.get_by_role("heading", name="Hosted page")).to_be_visible()
    expect(page.get_by_text(re.compile(rf"/f/{alias}$")).first).to_be_visible()
    expect(page.get_by_role("heading", name="Plain HTML")).to_be_visible()

    # A visitor submits the hosted page, with markup in a text field.
    visitor = page.context.new_page()
    visitor.goto(f"{base_url}/f/{alias}")
    visitor.get_by_label("Email").fill(email)
    visitor.get_by_label("Company").fill(HOSTILE)
    visitor.get_by_label(consent).check()
    visitor.get_by_role("button", name="Submit").click()
    expect(visitor.get_by_text("Thank you!")).to_be_visible()
    visitor.close()

    # The results page lists it, markup shown as text and never run.
    page.goto(f"/forms/{form_id}/results")
    expect(page.get_by_role("heading", level=1, name=f"Results: {name}")).to_be_visible()
    table = page.get_by_role("table", name="Submissions")
    row = table.get_by_role("row").filter(has_text=email)
    expect(row).to_be_visible()
    expect(row.get_by_text(HOSTILE)).to_be_visible()
    expect(row).to_contain_text(consent)
    assert page.evaluate("window.__trellis_xss") is None
    csv_link = page.get_by_role("link", name="Download CSV")
    expect(csv_link).to_have_attribute("href", f"/api/v2/forms/{form_id}/submissions.csv")

    # The contact it created shows the submission on its page.
    row.locator('a[href^="/contacts/"]').click()
    expect(page).to_have_url(re.compile(r"/contacts/\d+$"))
    section = page.locator('section[aria-labelledby="contact-submissions"]')
    expect(section.get_by_role("link", name=name)).to_be_visible()
    expect(section).to_contain_text(email)

    # The list shows the count and the last submission.
    page.goto("/forms")
    list_row = page.get_by_role("row").filter(has_text=name)
    expect(list_row.get_by_role("link", name=re.compile(r"^1 submissions of"))).to_be_visible()

    client = api_client(base_url)
    try:
        form = client.get(f"/api/v2/forms/{form_id}").json()
    finally:
        client.close()
    assert [f["type"] for f in form["fields"]] == ["email", "consent", "text"]
    assert form["fields"][1]["consent_text"] == consent
    assert form["is_published"] is True
    assert form["submission_count"] == 1
    assert form["allowed_origins"] == ["https://www.example.com"]


def test_a_form_is_a_campaign_source_on_the_canvas(page: Page, base_url: str) -> None:
    suffix = _hex()
    client = api_client(base_url)
    try:
        ids = []
        for label in ("Quote", "Demo"):
            created = client.post(
                "/api/v2/forms",
                json={
                    "name": f"{label} request {suffix}",
                    "fields": [
                        {
                            "label": "Email",
                            "type": "email",
                            "name": "email",
                            "contact_field": "email",
                        }
                    ],
                },
            )
            assert created.status_code == 201, created.text
            ids.append(created.json()["id"])
    finally:
        client.close()

    log_in(page)

    # A server error lands on the setting it names, on the tab that shows it.
    page.goto(f"/forms/{ids[0]}")
    page.get_by_role("tab", name=re.compile(r"^Submit actions")).click()
    page.get_by_role("button", name="Add action").click()
    page.get_by_role("tab", name=re.compile(r"^Settings")).click()
    page.get_by_label("Address (slug)").fill(f"demo-request-{suffix}")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(
        page.get_by_text(f"Another form uses the alias 'demo-request-{suffix}'.")
    ).to_be_visible()
    page.get_by_label("Address (slug)").fill(f"quote-{suffix}")
    page.get_by_role("button", name="Save", exact=True).click()
    # The empty segment list of the new action is the server's next complaint.
    expect(page.get_by_role("tab", name="Submit actions (!)")).to_have_attribute(
        "aria-selected", "true"
    )
    page.get_by_role("button", name="Remove action 1").click()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Form saved")).to_be_visible()

    page.goto("/campaigns/new")
    settings = page.get_by_role("complementary", name="Campaign settings")
    settings.get_by_label("Name", exact=True).fill(f"Follow up {suffix}")
    settings.get_by_role("button", name="Add a form").click()
    picker = settings.get_by_role("combobox", name="Form")
    picker.fill(f"Demo request {suffix}")
    page.get_by_role("option", name=f"Demo request {suffix} (unpublished)").click()

    # The sources node names the form, with its own icon and label.
    sources = page.locator(".react-flow__node-sources")
    form_source = sources.locator('[data-source-kind="form"]')
    expect(form_source).to_contain_text(f"Demo request {suffix}")
    expect(form_source).to_contain_text("form: on submit")
    expect(form_source.get_by_label("Form")).to_be_visible()

    page.get_by_role("button", name="Save draft").click()
    expect(page).to_have_url(re.compile(r"/campaigns/\d+/edit$"))
    campaign_id = int(page.url.rstrip("/").split("/")[-2])
    client = api_client(base_url)
    try:
        campaign = client.get(f"/api/v2/campaigns/{campaign_id}").json()
    finally:
        client.close()
    assert [(s["kind"], s["id"]) for s in campaign["sources"]] == [("form", ids[1])]
