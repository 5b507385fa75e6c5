"""A landing page in a real browser: it runs in an opaque origin (CSP sandbox), yet its
tracking script records the visit and its embedded form submits."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.helpers import api_client

pytestmark = pytest.mark.e2e


def eventually(check: Callable[[], Any], what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout:.0f} s"
        time.sleep(0.3)


def test_a_sandboxed_landing_page_tracks_and_its_form_submits(
    browser: Browser, base_url: str
) -> None:
    suffix = uuid.uuid4().hex[:8]
    api = api_client(base_url)
    form = api.post(
        "/api/v2/forms",
        json={
            "name": f"Join {suffix}",
            "alias": f"join-{suffix}",
            "is_published": True,
            "fields": [
                {"label": "Email", "type": "email", "name": "email", "contact_field": "email",
                 "required": True},
            ],
            "success": {"kind": "message", "message": f"Welcome {suffix}!"},
        },
    )  # fmt: skip
    assert form.status_code == 201, form.text
    page = api.post(
        "/api/v2/pages",
        json={
            "name": f"Spring {suffix}",
            "title": f"Spring {suffix}",
            "slug": f"spring-{suffix}",
            "html": f"<h1>Spring {suffix}</h1>{{form={form.json()['id']}}}",
            "is_published": True,
        },
    )
    assert page.status_code == 201, page.text
    url = f"{base_url}/p/spring-{suffix}"

    context = browser.new_context()
    context.set_default_timeout(15_000)
    try:
        visitor = context.new_page()
        visitor.goto(url)
        expect(visitor.get_by_role("heading", name=f"Spring {suffix}")).to_be_visible()
        # An opaque origin: no cookies of this server to read or send.
        assert visitor.evaluate("() => window.origin") == "null"
        cookie = visitor.evaluate(
            "() => { try { return typeof document.cookie; } catch (e) { return e.name; } }"
        )
        assert cookie == "SecurityError"

        def hits() -> int:
            found = api.get("/api/v2/page-hits", params={"url": url})
            assert found.status_code == 200, found.text
            return int(found.json()["meta"]["total"])

        eventually(lambda: hits() >= 1, "the tracking script's hit")

        address = f"lp.{suffix}@example.com"
        visitor.get_by_label("Email").fill(address)
        visitor.get_by_role("button", name="Submit").click()
        expect(visitor.get_by_text(f"Welcome {suffix}!")).to_be_visible()
        found = api.get("/api/v2/contacts", params={"q": address}).json()["data"]
        assert [c["email"] for c in found] == [address]
    finally:
        context.close()
        api.close()
