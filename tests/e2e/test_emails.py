"""The email builder, preview, test send and the outbox through the web UI."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Request, expect

from tests.e2e.helpers import api_client, log_in

pytestmark = pytest.mark.e2e

# The docs' screenshot, written when TRELLIS_E2E_SHOTS names a folder (docs/images).
SHOTS = os.environ.get("TRELLIS_E2E_SHOTS")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def _hex() -> str:
    return uuid.uuid4().hex[:8]


def _outside_requests(urls: list[str]) -> list[str]:
    """The requests that went to another host than this server (data:, blob:, about: are local)."""
    outside = []
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme in {"http", "https", "ws", "wss"} and parts.hostname not in LOCAL_HOSTS:
            outside.append(url)
    return outside


def _wait_for_visual_editor(page: Page, text: str) -> None:
    canvas = page.get_by_test_id("visual-editor").locator("iframe.gjs-frame")
    expect(canvas).to_be_visible(timeout=30_000)
    expect(
        page.frame_locator('[data-testid="visual-editor"] iframe.gjs-frame').get_by_text(text)
    ).to_be_visible(timeout=30_000)


def test_mjml_email_preview_test_send_and_outbox(page: Page, base_url: str) -> None:
    suffix = _hex()
    first_name = f"Grace{suffix}"
    client = api_client(base_url)
    try:
        created = client.post(
            "/api/v2/contacts",
            json={"email": f"grace.{suffix}@example.com", "first_name": first_name},
        )
    finally:
        client.close()
    assert created.status_code == 201, created.text
    contact_id = created.json()["id"]

    requests: list[str] = []

    def record(request: Request) -> None:
        requests.append(request.url)

    page.on("request", record)
    log_in(page)

    # The editor opens with GrapesJS showing the starter MJML, and loads nothing from elsewhere.
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Emails", exact=True
    ).click()
    expect(page.get_by_role("heading", level=1, name="Emails")).to_be_visible()
    page.get_by_role("button", name="New email").click()
    expect(page).to_have_url(re.compile(r"/emails/new$"))
    _wait_for_visual_editor(page, "Write your message here.")
    assert _outside_requests(requests) == [], "the editor reached another host"

    page.get_by_label("Name", exact=True).fill(f"Spring news {suffix}")
    subject = page.get_by_label("Subject", exact=True)
    subject.fill("News for ")
    # The token picker puts a contact field, with its fallback, at the caret of the subject.
    subject.press("End")
    page.get_by_role("combobox", name="Personalisation token").fill("First name")
    page.get_by_role("option", name=re.compile(r"^Contact fields: First name$")).click()
    page.get_by_label("When empty").fill("friend")
    page.get_by_role("button", name="Insert into the subject").click()
    expect(subject).to_have_value("News for {contactfield=first_name|friend}")

    # Invalid MJML is refused with the line, shown on the body.
    page.get_by_role("tab", name="MJML source").click()
    source = page.get_by_label("MJML source", exact=True)
    expect(source).to_have_value(re.compile(r"<mjml>"))
    source.fill(
        "<mjml>\n<mj-body>\n<mj-section>\n<mj-colum></mj-colum>\n</mj-section>\n</mj-body>\n</mjml>"
    )
    page.get_by_role("button", name="Create email").click()
    expect(page.get_by_text(re.compile(r"Line \d+: .*mj-colum"))).to_be_visible()
    expect(page).to_have_url(re.compile(r"/emails/new$"))

    body = (
        "<mjml><mj-body><mj-section><mj-column>"
        "<mj-text>Spring sale for {contactfield=first_name|there}</mj-text>"
        '<mj-button href="https://shop.example.com/spring">Shop now</mj-button>'
        '<mj-text><a href="{unsubscribe_url}">Unsubscribe</a></mj-text>'
        "</mj-column></mj-section></mj-body></mjml>"
    )
    source.fill(body)
    page.get_by_role("button", name="Create email").click()
    expect(page).to_have_url(re.compile(r"/emails/\d+$"))
    expect(page.get_by_role("heading", level=1, name=f"Spring news {suffix}")).to_be_visible()
    email_id = int(page.url.rsplit("/", 1)[1])

    # The saved email opens in the visual editor: the screenshot for the README.
    _wait_for_visual_editor(page, "Shop now")
    page.set_viewport_size({"width": 1440, "height": 960})
    expect(page.get_by_text("Email created")).to_be_hidden(timeout=10_000)
    page.wait_for_timeout(500)
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / "email-editor.png"))
    assert _outside_requests(requests) == [], "the editor reached another host"

    # A token inserted into the text block selected in the visual editor reaches the saved MJML.
    page.set_viewport_size({"width": 1280, "height": 800})
    canvas = page.frame_locator('[data-testid="visual-editor"] iframe.gjs-frame')
    canvas.get_by_text("Spring sale for").click()
    page.get_by_role("combobox", name="Personalisation token").fill("Sending date")
    page.get_by_role("option", name=re.compile(r"Sending date")).click()
    page.get_by_role("button", name="Insert into the body").click()
    expect(canvas.get_by_text(re.compile(r"\{date\}"))).to_be_visible()

    # While a text block is being edited, the token goes where the caret is: here, first.
    canvas.get_by_text("Spring sale for").dblclick()
    canvas.locator("[contenteditable=true]").press("Home")
    page.get_by_role("combobox", name="Personalisation token").fill("Owner's email")
    page.get_by_role("option", name=re.compile(r"Owner's email")).click()
    page.get_by_role("button", name="Insert into the body").click()
    expect(
        canvas.get_by_text(re.compile(r"^\s*\{ownerfield=email\}\s*Spring sale for"))
    ).to_be_visible()
    # The caret is then just after that token, as after typing it: the next one follows it.
    page.get_by_role("combobox", name="Personalisation token").fill("Sending date")
    page.get_by_role("option", name=re.compile(r"Sending date")).click()
    page.get_by_role("button", name="Insert into the body").click()
    expect(
        canvas.get_by_text(re.compile(r"^\s*\{ownerfield=email\}\{date\}Spring sale for"))
    ).to_be_visible()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Email saved")).to_be_visible()
    client = api_client(base_url)
    try:
        saved = client.get(f"/api/v2/emails/{email_id}").json()
    finally:
        client.close()
    assert "{date}" in saved["body"], saved["body"]
    # Token first, then the one inserted after it, then the text that was there.
    tokens_first = re.compile(r">\s*\{ownerfield=email\}\{date\}Spring sale for")
    assert tokens_first.search(saved["body"]), saved["body"]
    assert "Shop now" in saved["body"]
    assert saved["body"].lstrip().startswith("<mjml")

    # Preview for the chosen contact, desktop then mobile.
    page.get_by_role("tab", name="Preview and test").click()
    picker = page.get_by_role("combobox", name="Preview for")
    picker.fill(first_name)
    page.get_by_role("option", name=re.compile(first_name)).click()
    expect(page.get_by_test_id("preview-subject")).to_have_text(f"News for {first_name}")
    frame = page.frame_locator('iframe[title^="Preview"]')
    expect(frame.get_by_text(f"Spring sale for {first_name}")).to_be_visible()
    preview = page.locator('iframe[title^="Preview"]')
    expect(preview).to_have_attribute("sandbox", "")
    page.get_by_role("tab", name="Mobile").click()
    expect(page.locator('iframe[title="Preview (mobile)"]')).to_have_attribute(
        "style", re.compile(r"width:\s*375px")
    )

    # A test send goes to the signed-in user, rendered for the contact.
    page.get_by_role("button", name="Send a test to me").click()
    expect(page.get_by_text("Test email sent")).to_be_visible()

    # The email's Sends tab lists it.
    page.get_by_role("tab", name="Sends").click()
    sends = page.get_by_role("table", name="Sends")
    expect(sends.get_by_text("Sent", exact=True)).to_be_visible()
    expect(sends.get_by_text("Test", exact=True)).to_be_visible()

    # The outbox kept the message: list, then its HTML, plain text, headers and source.
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Outbox"
    ).click()
    expect(page.get_by_role("heading", level=1, name="Outbox")).to_be_visible()
    page.get_by_role("link", name=f"News for {first_name}").first.click()
    expect(page.get_by_role("heading", level=1, name=f"News for {first_name}")).to_be_visible()
    html = page.frame_locator('iframe[title="Message HTML"]')
    expect(html.get_by_text(f"Spring sale for {first_name}")).to_be_visible()
    expect(page.locator('iframe[title="Message HTML"]')).to_have_attribute("sandbox", "")
    page.get_by_role("tab", name="Plain text").click()
    expect(page.get_by_test_id("outbox-text")).to_contain_text(f"Spring sale for {first_name}")
    page.get_by_role("tab", name="Headers").click()
    headers = page.get_by_label("Headers")
    expect(headers.get_by_text("List-Unsubscribe-Post", exact=True)).to_be_visible()
    expect(headers.get_by_text("List-Unsubscribe=One-Click", exact=True)).to_be_visible()
    page.get_by_role("tab", name="Source").click()
    expect(page.get_by_test_id("outbox-raw")).to_contain_text("Content-Type: multipart/alternative")

    # The contact's page lists the message in its Emails section.
    page.goto(f"/contacts/{contact_id}")
    emails = page.get_by_role("table", name="Messages")
    # By its name, not "Email 12".
    expect(emails.get_by_role("link", name=f"Spring news {suffix}")).to_be_visible()

    assert _outside_requests(requests) == [], "a page reached another host"
