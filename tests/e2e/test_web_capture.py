"""Web capture end to end (issue 7): a form embedded on another site brings a visitor into a
campaign that emails them; their next page visit, seen by the tracking script on that site,
takes a `page.hit` decision; the same visit with `Sec-GPC: 1` records nothing."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.helpers import api_client

pytestmark = pytest.mark.e2e

MJML = (
    "<mjml><mj-body><mj-section><mj-column><mj-text>Welcome {contactfield=first_name|friend}"
    "</mj-text></mj-column></mj-section></mj-body></mjml>"
)


class Site:
    """Another origin (same host, another port) serving the HTML pages a test gives it."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path.split("?")[0])
                if body is None:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def site() -> Iterator[Site]:
    served = Site()
    try:
        yield served
    finally:
        served.close()


def eventually(check: Callable[[], Any], what: str, timeout: float = 30) -> Any:
    """The server's background services deliver mail and write hits within a second or two."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout:.0f} s"
        time.sleep(0.3)


def page_html(title: str, base_url: str, extra: str = "") -> str:
    return (
        f"<!doctype html><html><head><title>{title}</title>"
        f'<script src="{base_url}/t/w.js" async></script></head>'
        f"<body><h1>{title}</h1>{extra}</body></html>"
    )


def test_an_embedded_form_a_campaign_email_and_a_page_visit(
    browser: Browser, base_url: str, site: Site
) -> None:
    suffix = uuid.uuid4().hex[:8]
    api = api_client(base_url)
    email = api.post(
        "/api/v2/emails",
        json={"name": f"Welcome {suffix}", "subject": f"Welcome {suffix}", "body": MJML,
              "is_published": True},
    )  # fmt: skip
    assert email.status_code == 201, email.text
    form = api.post(
        "/api/v2/forms",
        json={
            "name": f"Trial {suffix}",
            "alias": f"trial-{suffix}",
            "is_published": True,
            "allowed_origins": [site.origin],
            "fields": [
                {"label": "Email", "type": "email", "name": "email", "contact_field": "email",
                 "required": True},
                {"label": "First name", "type": "text", "name": "first_name",
                 "contact_field": "first_name"},
            ],
            "success": {"kind": "message", "message": f"Thanks {suffix}!"},
        },
    )  # fmt: skip
    assert form.status_code == 201, form.text
    steps = [
        {"key": "welcome", "type": "email.send", "name": "Welcome",
         "config": {"email_id": email.json()["id"]}},
        {"key": "pricing", "type": "page.hit", "name": "Visits pricing?",
         "config": {"urls": [f"{site.origin}/pricing*"]}},
        {"key": "hot", "type": "contact.change_tags", "name": "Tag hot",
         "config": {"add": [f"hot-{suffix}"]}},
    ]  # fmt: skip
    campaign = api.post(
        "/api/v2/campaigns",
        json={
            "name": f"Trial journey {suffix}",
            "sources": [{"kind": "form", "id": form.json()["id"]}],
            "events": steps,
            "edges": [
                {"source": None, "target": "welcome"},
                {"source": "welcome", "target": "pricing"},
                {"source": "pricing", "target": "hot", "path": "yes"},
            ],
        },
    )
    assert campaign.status_code == 201, campaign.text
    published = api.post(f"/api/v2/campaigns/{campaign.json()['id']}/publish")
    assert published.status_code == 200, published.text

    embed = api.get(f"/api/v2/forms/{form.json()['id']}/embed").json()
    site.pages["/signup"] = page_html("Sign up", base_url, embed["script"])
    site.pages["/pricing"] = page_html("Pricing", base_url)
    site.pages["/pricing-private"] = page_html("Pricing", base_url)

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    try:
        visitor = context.new_page()
        visitor.goto(f"{site.origin}/signup")
        address = f"ada.{suffix}@example.com"
        visitor.get_by_label("Email").fill(address)
        visitor.get_by_label("First name").fill("Ada")
        visitor.get_by_role("button", name="Submit").click()
        expect(visitor.get_by_text(f"Thanks {suffix}!")).to_be_visible()

        # The contact exists, entered the form's campaign at once and got its first email.
        def the_contact() -> int | None:
            found = api.get("/api/v2/contacts", params={"q": address}).json()["data"]
            return int(found[0]["id"]) if found else None

        contact_id = eventually(the_contact, "the contact's creation")
        message = eventually(
            lambda: api.get("/api/v2/outbox", params={"q": address}).json()["data"],
            "the welcome email",
        )
        assert message[0]["subject"] == f"Welcome {suffix}"

        # A visit to the pricing page takes the decision's yes path.
        visitor.goto(f"{site.origin}/pricing")
        eventually(
            lambda: f"hot-{suffix}" in api.get(f"/api/v2/contacts/{contact_id}").json()["tags"],
            "the yes path of the page.hit decision",
        )

        # With Global Privacy Control the same kind of visit records nothing...
        context.set_extra_http_headers({"Sec-GPC": "1"})
        visitor.goto(f"{site.origin}/pricing-private")
        time.sleep(3)  # several flushes of the hit buffer
        assert _hits(api, f"{site.origin}/pricing-private") == 0
        # ...while without it the visit is recorded (the check above could not pass by luck).
        context.set_extra_http_headers({})
        visitor.goto(f"{site.origin}/pricing-private")
        eventually(lambda: _hits(api, f"{site.origin}/pricing-private") == 1, "the plain visit")
    finally:
        context.close()
        api.close()


def _hits(api: httpx.Client, url: str) -> int:
    response = api.get("/api/v2/page-hits", params={"url": url})
    assert response.status_code == 200, response.text
    return int(response.json()["meta"]["total"])
