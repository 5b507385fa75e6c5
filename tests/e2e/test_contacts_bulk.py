"""The contacts list's bulk actions (one POST /contacts/bulk each) and a company's contacts."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, Request, expect

from tests.e2e.helpers import api_client, log_in

pytestmark = pytest.mark.e2e


def _select_all_shown(page: Page, count: int) -> None:
    table = page.get_by_role("table", name="All contacts")
    expect(table.get_by_role("link", name=re.compile(r"^Bulk "))).to_have_count(count)
    table.get_by_label("Select all rows on this page").check(force=True)
    expect(page.get_by_text(f"{count} items selected")).to_be_visible()


def test_bulk_actions_send_one_request_each(page: Page, base_url: str) -> None:
    tag = f"bulk-{uuid.uuid4().hex[:8]}"
    client = api_client(base_url)
    try:
        ids = []
        for i in range(3):
            response = client.post(
                "/api/v2/contacts",
                json={
                    "email": f"{tag}-{i}@example.com",
                    "first_name": "Bulk",
                    "last_name": f"P{i}",
                    "tags": [tag],
                },
            )
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])

        log_in(page)
        writes: list[Request] = []
        page.on(
            "request",
            lambda r: (
                writes.append(r) if r.method != "GET" and "/api/v2/contacts" in r.url else None
            ),
        )
        page.goto(f"/contacts?tag={tag}")
        expect(page.get_by_role("heading", level=1, name="Contacts")).to_be_visible()

        # Add a tag to all three: one request.
        _select_all_shown(page, 3)
        page.get_by_role("button", name="Add tags").click()
        dialog = page.get_by_role("dialog", name="Add tags to 3 contacts")
        dialog.get_by_label("Tags").fill(f"{tag}-x")
        dialog.get_by_label("Tags").press("Enter")
        dialog.get_by_role("button", name="Add tags").click()
        expect(dialog).to_be_hidden()
        expect(page.get_by_text("Tags added to 3 contacts")).to_be_visible()
        for cid in ids:
            assert f"{tag}-x" in client.get(f"/api/v2/contacts/{cid}").json()["tags"]

        # Do not contact (email), then allow it again.
        _select_all_shown(page, 3)
        page.get_by_role("button", name="Do not contact (email)").click()
        dialog = page.get_by_role("dialog", name="Do not email 3 contacts?")
        dialog.get_by_role("button", name="Do not contact").click()
        expect(dialog).to_be_hidden()
        expect(page.get_by_text("Do not contact (email) set for 3 contacts")).to_be_visible()
        for cid in ids:
            assert [d["channel"] for d in client.get(f"/api/v2/contacts/{cid}").json()["dnc"]] == [
                "email"
            ]

        _select_all_shown(page, 3)
        page.get_by_role("button", name="Allow contact (email)").click()
        dialog = page.get_by_role("dialog", name="Allow email to 3 contacts?")
        dialog.get_by_role("button", name="Allow email").click()
        expect(dialog).to_be_hidden()
        expect(page.get_by_text("Contact by email allowed for 3 contacts")).to_be_visible()
        for cid in ids:
            assert client.get(f"/api/v2/contacts/{cid}").json()["dnc"] == []

        # Delete two of them.
        table = page.get_by_role("table", name="All contacts")
        table.get_by_label("Select Bulk P0").check(force=True)
        table.get_by_label("Select Bulk P1").check(force=True)
        page.get_by_role("button", name="Delete", exact=True).click()
        dialog = page.get_by_role("dialog", name="Delete 2 contacts?")
        dialog.get_by_role("button", name="Delete", exact=True).click()
        expect(dialog).to_be_hidden()
        expect(page.get_by_text("Deleted 2 contacts")).to_be_visible()
        expect(table.get_by_role("link", name=re.compile(r"^Bulk "))).to_have_count(1)
        assert client.get(f"/api/v2/contacts/{ids[0]}").status_code == 404
        assert client.get(f"/api/v2/contacts/{ids[2]}").status_code == 200

        # Four actions, four requests, all to the bulk endpoint.
        assert [(r.method, r.url.removeprefix(base_url)) for r in writes] == [
            ("POST", "/api/v2/contacts/bulk")
        ] * 4
    finally:
        client.close()


def test_company_page_lists_its_contacts(page: Page, base_url: str) -> None:
    suffix = uuid.uuid4().hex[:8]
    client = api_client(base_url)
    try:
        company = client.post("/api/v2/companies", json={"name": f"Acme {suffix}"}).json()
        other = client.post("/api/v2/companies", json={"name": f"Other {suffix}"}).json()
        linked = []
        for i, target in enumerate([company, company, other]):
            contact = client.post(
                "/api/v2/contacts",
                json={
                    "email": f"co-{suffix}-{i}@example.com",
                    "first_name": f"Co{i}",
                    "last_name": suffix,
                },
            ).json()
            response = client.post(
                f"/api/v2/contacts/{contact['id']}/companies", json={"company_id": target["id"]}
            )
            assert response.status_code < 300, response.text
            if target is company:
                linked.append(contact)
    finally:
        client.close()

    log_in(page)
    page.goto(f"/companies/{company['id']}")
    expect(page.get_by_role("heading", level=1, name=f"Acme {suffix}")).to_be_visible()
    table = page.get_by_role("table", name="Contacts")
    expect(table.get_by_role("link")).to_have_count(2)
    expect(table.get_by_role("link", name=f"Co2 {suffix}")).to_have_count(0)
    table.get_by_role("link", name=f"Co0 {suffix}").click()
    expect(page).to_have_url(re.compile(rf"/contacts/{linked[0]['id']}$"))
    expect(page.get_by_role("heading", level=1, name=f"Co0 {suffix}")).to_be_visible()
