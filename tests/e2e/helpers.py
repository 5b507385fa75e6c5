from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD


def log_in(page: Page, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> None:
    page.goto("/login")
    expect(page.get_by_role("heading", name="Log in to Trellis")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Welcome"))).to_be_visible()


def create_project(page: Page, name: str, description: str = "") -> None:
    page.goto("/projects")
    page.get_by_role("button", name="New project").click()
    dialog = page.get_by_role("dialog", name="New project")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Name").fill(name)
    if description:
        dialog.get_by_label("Description").fill(description)
    dialog.get_by_role("button", name="Create").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()


def api_client(
    base_url: str, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD
) -> httpx.Client:
    """An API client logged in with a session cookie, sending the CSRF token on writes."""
    client = httpx.Client(base_url=base_url, timeout=30)
    response = client.post("/api/v2/auth/login", json={"email": email, "password": password})
    response.raise_for_status()
    token = client.cookies.get("trellis_csrf")
    assert token, "login set no CSRF cookie"
    client.headers["X-CSRF-Token"] = token
    return client
