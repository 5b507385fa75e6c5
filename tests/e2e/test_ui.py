"""The web UI end to end: log in, projects, the audit log, the privacy rule, log out."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Request, expect

from tests.e2e.helpers import create_project, log_in

pytestmark = pytest.mark.e2e


def _unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def test_create_project_and_open_its_detail_page(page: Page) -> None:
    log_in(page)
    name = _unique("Spring launch")
    create_project(page, name, description="Emails and pages for the spring launch")

    page.get_by_role("link", name=name, exact=True).click()
    expect(page).to_have_url(re.compile(r"/projects/\d+$"))
    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()
    expect(page.get_by_text("Emails and pages for the spring launch")).to_be_visible()
    expect(page.get_by_role("heading", name="Contents")).to_be_visible()
    # The project's own history lists its creation.
    expect(page.get_by_role("table", name="History").get_by_role("row")).not_to_have_count(1)


def test_rename_shows_old_and_new_name_in_audit_log(page: Page) -> None:
    log_in(page)
    old = _unique("Autumn")
    new = f"{old} renamed"
    create_project(page, old)
    page.get_by_role("link", name=old, exact=True).click()
    expect(page.get_by_role("heading", level=1, name=old)).to_be_visible()
    project_id = page.url.rstrip("/").rsplit("/", 1)[-1]

    page.get_by_role("button", name="Edit", exact=True).click()
    dialog = page.get_by_role("dialog", name=f"Edit {old}")
    dialog.get_by_label("Name").fill(new)
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("heading", level=1, name=new)).to_be_visible()

    nav = page.get_by_role("navigation", name="Main navigation")
    nav.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", level=1, name="Audit log")).to_be_visible()
    # Filtered by picking the project by name: no id typed.
    page.get_by_label("Entity type").select_option(label="Project")
    picker = page.get_by_role("combobox", name="Project")
    picker.fill(new)
    option = page.get_by_role("option", name=re.compile(re.escape(new)))
    expect(option).to_have_count(1)
    option.click()
    expect(picker).to_have_value(new)
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(rf"entity_id={project_id}"))

    table = page.get_by_role("table", name="Entries")
    rename_row = table.get_by_role("row").filter(has_text=new).filter(has_text="name").first
    expect(rename_row).to_be_visible()
    rename_row.get_by_role("button").first.click()
    changes = page.get_by_role("list", name="Field changes").filter(has_text=f"{old} -> {new}")
    expect(changes).to_be_visible()
    expect(changes.get_by_text(old, exact=True)).to_be_visible()
    expect(changes.get_by_text(new, exact=True)).to_be_visible()


def test_every_request_stays_on_this_origin(page: Page, base_url: str) -> None:
    origin = urlsplit(base_url)
    requests: list[str] = []
    page_errors: list[str] = []
    csp_violations: list[str] = []

    def record(request: Request) -> None:
        requests.append(request.url)

    page.on("request", record)
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: (
            csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None
        ),
    )

    page.goto("/login", wait_until="networkidle")
    log_in(page)
    create_project(page, _unique("Privacy check"))
    page.get_by_role("link", name=re.compile(r"^Privacy check")).first.click()
    expect(page).to_have_url(re.compile(r"/projects/\d+$"))
    page.wait_for_load_state("networkidle")

    for path, heading in [
        ("/", re.compile(r"^Welcome")),
        ("/projects", "Projects"),
        ("/audit-log", "Audit log"),
        ("/settings", "Settings"),
        ("/admin/users", "Users"),
        ("/admin/roles", "Roles"),
        ("/admin/tokens", "API tokens"),
        ("/contacts", "Contacts"),
        ("/contacts/import", "Import contacts"),
        ("/segments", "Segments"),
        ("/segments/new", "New segment"),
        ("/companies", "Companies"),
        ("/settings/fields", "Custom fields"),
        ("/stages", "Stages"),
        ("/tags", "Tags"),
    ]:
        page.goto(path, wait_until="networkidle")
        expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()

    # The UI's own font is IBM Plex, and it came from this origin.
    assert page.evaluate("document.fonts.check('16px \"IBM Plex Sans\"')")
    assert any("/static/assets/ibm-plex-sans" in url for url in requests), "Plex was not loaded"

    page.goto("/api/v2/docs", wait_until="networkidle")
    expect(page.locator(".swagger-ui")).to_be_visible()
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    assert page.locator(".swagger-ui .opblock").count() > 10

    foreign = [
        url
        for url in requests
        if not url.startswith(("data:", "blob:"))
        and (urlsplit(url).scheme, urlsplit(url).netloc) != (origin.scheme, origin.netloc)
    ]
    assert requests, "no request was recorded"
    assert foreign == [], f"requests to other hosts: {foreign}"
    assert page_errors == [], f"uncaught page errors: {page_errors}"
    assert csp_violations == [], f"blocked by the Content-Security-Policy: {csp_violations}"


def test_logout_returns_to_login(page: Page) -> None:
    log_in(page)
    page.get_by_role("button", name=re.compile(r"^User menu")).click()
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("heading", name="Log in to Trellis")).to_be_visible()

    # The session is gone: an app page sends the browser back to the login page.
    page.goto("/projects")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("heading", name="Log in to Trellis")).to_be_visible()


def test_wrong_password_is_shown_inline(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill("admin@example.com")
    page.get_by_label("Password", exact=True).fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Could not log in")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/login$"))


def test_phone_width_menu_is_a_hamburger_and_pickers_work(page: Page) -> None:
    """At 390x844 the side menu hides behind a hamburger that closes after a choice, the page
    takes the width, and the audit log's filters still pick by name."""
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page)
    nav = page.get_by_role("navigation", name="Main navigation")
    audit_link = nav.get_by_role("link", name="Audit log")
    expect(audit_link).to_be_hidden()
    page.get_by_role("button", name="Open menu").click()
    expect(audit_link).to_be_visible()
    audit_link.click()
    expect(page.get_by_role("heading", level=1, name="Audit log")).to_be_visible()
    expect(audit_link).to_be_hidden()
    content = page.locator("#main-content").bounding_box()
    assert content is not None
    assert content["x"] < 1
    assert content["width"] <= 390

    page.get_by_label("Actor type").select_option(label="User")
    picker = page.get_by_role("combobox", name="User")
    picker.fill("Ada")
    option = page.get_by_role("option", name=re.compile("Ada Admin"))
    expect(option).to_have_count(1)
    option.click()
    expect(picker).to_have_value("Ada Admin")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"actor_id=\d+"))
