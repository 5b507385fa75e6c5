"""One person with data in every table a contact reaches, made the way it happens in use:
the API, a form on the website, page visits, a campaign email opened and clicked."""

from __future__ import annotations

import io
import json
import secrets
import zipfile
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import func, select

from tests.domains.campaigns.helpers import admin_rebuild, segment
from tests.domains.emails.helpers import create_email
from tests.domains.forms.helpers import create_form, submit
from tests.domains.tracking.helpers import flush, message_to, path_of, send_campaign, tracked_links
from tests.fixtures.api import Harness
from trellis.db.base import Base

SITE = "https://www.example.com"
EMAIL = "adelheid.quarterstaff@example.com"
FIRST, LAST = "Adelheid", "Quarterstaff"
PERSON_IP = "198.51.100.23"
# What anyone could use to find the person again: the address, the names, the network.
NEEDLES = (EMAIL, FIRST.lower(), LAST.lower(), "198.51.100.")


@dataclass
class Person:
    contact_id: int
    campaign_id: int
    email_id: int
    form_alias: str
    visitor: str


def from_person(harness: Harness) -> httpx.AsyncClient:
    """The person's own browser: their network address, no credentials."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=harness.app, client=(PERSON_IP, 51000)),
        base_url="http://testserver",
    )


async def page_hit(client: httpx.AsyncClient, visitor: str, url: str) -> None:
    body = {"v": visitor, "u": url, "t": f"Hello {FIRST}", "r": ""}
    response = await client.post(
        "/t/hit",
        content=json.dumps(body),
        headers={"Content-Type": "text/plain;charset=UTF-8", "Origin": SITE},
    )
    assert response.status_code in (200, 202, 204), response.text


async def everywhere(harness: Harness, admin: httpx.AsyncClient) -> Person:
    field = await admin.post("/api/v2/fields", json={"label": "Nickname", "type": "text"})
    assert field.status_code == 201, field.text
    alias = field.json()["alias"]
    form = await create_form(admin)
    browser = from_person(harness)
    visitor = secrets.token_hex(16)
    await page_hit(browser, visitor, f"{SITE}/before-signing-up")
    await harness.app.state.web_hits.flush()
    submitted = await submit(
        browser,
        form["alias"],
        {"email": EMAIL, "first_name": FIRST, "consent": "1", "_visitor": visitor},
        Origin=SITE,
    )
    assert submitted.status_code == 200, submitted.text
    found = await admin.get("/api/v2/contacts", params={"search": EMAIL})
    contact_id = int(found.json()["data"][0]["id"])
    updated = await admin.patch(
        f"/api/v2/contacts/{contact_id}",
        json={"last_name": LAST, "fields": {alias: FIRST}, "add_tags": ["vip"]},
    )
    assert updated.status_code == 200, updated.text
    points = await admin.post(
        f"/api/v2/contacts/{contact_id}/points", json={"delta": 5, "reason": "webinar"}
    )
    assert points.status_code == 200, points.text
    company = await admin.post("/api/v2/companies", json={"name": "Acme"})
    assert company.status_code == 201, company.text
    linked = await admin.post(
        f"/api/v2/contacts/{contact_id}/companies", json={"company_id": company.json()["id"]}
    )
    assert linked.status_code == 200, linked.text
    dnc = await admin.post(
        f"/api/v2/contacts/{contact_id}/dnc",
        json={"channel": "sms", "reason": "manual", "comment": f"{FIRST} asked by phone"},
    )
    assert dnc.status_code == 200, dnc.text
    consent = await admin.post(
        f"/api/v2/contacts/{contact_id}/consents",
        json=[{"purpose": "profiling", "granted": True, "wording": "Yes", "ip": PERSON_IP}],
    )
    assert consent.status_code == 201, consent.text
    await segment(admin, "Everyone", [{"type": "points", "operator": ">=", "value": 0}])
    await admin_rebuild(harness)
    await page_hit(browser, visitor, f"{SITE}/after-signing-up")
    await harness.app.state.web_hits.flush()

    mail = await create_email(admin)
    journey = await send_campaign(harness, admin, mail["id"], [contact_id])
    links = tracked_links(await message_to(admin, EMAIL))
    opened = await browser.get(path_of(links["open"]))
    assert opened.status_code == 200
    await flush(harness)
    await browser.aclose()
    return Person(contact_id, int(journey["id"]), int(mail["id"]), form["alias"], visitor)


async def traces(harness: Harness) -> list[str]:
    """Every row of every table that still names the person: "table: row"."""
    found = []
    async with harness.database.unit_of_work(read_only=True) as session:
        for table in Base.metadata.sorted_tables:
            rows = await session.execute(select(table))
            for row in rows.mappings():
                text = json.dumps({k: str(v) for k, v in row.items()}).lower()
                if any(needle in text for needle in NEEDLES):
                    found.append(f"{table.name}: {text[:300]}")
    return found


async def references(harness: Harness, contact_id: int) -> list[str]:
    """Every row of every table that points at the contact by id (the bulk tables without
    foreign keys included)."""
    found = []
    async with harness.database.unit_of_work(read_only=True) as session:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.c if c.name in ("contact_id", "winner_id", "loser_id")]
            if table.name == "contacts":
                columns.append(table.c.id)
            for column in columns:
                rows = await session.execute(
                    select(func.count()).select_from(table).where(column == contact_id)
                )
                if rows.scalar_one():
                    found.append(f"{table.name}.{column.name}")
    return found


def sections(archive: bytes) -> dict[str, Any]:
    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        return {
            name.rsplit(".", 1)[0]: json.loads(zipped.read(name))
            if name.endswith(".json")
            else zipped.read(name).decode()
            for name in zipped.namelist()
        }
