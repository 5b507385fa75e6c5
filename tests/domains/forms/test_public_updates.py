"""What an anonymous form post may change on a contact it finds by email: fields marked
publicly updatable, and empty fields; never a protected value someone already has."""

from __future__ import annotations

from typing import Any

import httpx

from tests.domains.forms.helpers import create_form, submit
from tests.fixtures.api import Harness


def _text(name: str) -> dict[str, Any]:
    return {"label": name, "type": "text", "name": name, "contact_field": name}


async def _field(admin: httpx.AsyncClient, label: str, **extra: Any) -> dict[str, Any]:
    response = await admin.post("/api/v2/fields", json={"label": label, "type": "text", **extra})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_the_flag_is_in_the_fields_api(admin: httpx.AsyncClient) -> None:
    tier = await _field(admin, "Tier")
    assert tier["publicly_updatable"] is False
    topic = await _field(admin, "Topic", publicly_updatable=True)
    assert topic["publicly_updatable"] is True
    changed = await admin.patch(f"/api/v2/fields/{tier['id']}", json={"publicly_updatable": True})
    assert changed.status_code == 200
    assert changed.json()["publicly_updatable"] is True
    listed = {f["alias"]: f for f in (await admin.get("/api/v2/fields")).json()}
    # A person's own details may be corrected through a form; attribution may not.
    assert listed["first_name"]["publicly_updatable"] is True
    assert listed["utm_source"]["publicly_updatable"] is False
    assert listed["tier"]["publicly_updatable"] is True


async def test_a_form_post_never_overwrites_protected_fields(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    await _field(admin, "Tier")
    await _field(admin, "Topic", publicly_updatable=True)
    await create_form(
        admin,
        fields=[
            {
                "label": "Email",
                "type": "email",
                "name": "email",
                "contact_field": "email",
                "required": True,
            },
            _text("first_name"),
            _text("tier"),
            _text("topic"),
            _text("utm_source"),
        ],
    )
    known = await admin.post(
        "/api/v2/contacts",
        json={
            "email": "ada@example.com",
            "first_name": "Ada",
            "utm_source": "newsletter",
            "fields": {"tier": "gold"},
        },
    )
    assert known.status_code == 201, known.text
    blank = await admin.post("/api/v2/contacts", json={"email": "grace@example.com"})
    assert blank.status_code == 201, blank.text
    async with harness.client() as stranger:
        for email in ("ada@example.com", "grace@example.com"):
            posted = await submit(
                stranger,
                "newsletter",
                {
                    "email": email,
                    "first_name": "Mallory",
                    "tier": "platinum",
                    "topic": "deals",
                    "utm_source": "evil",
                },
            )
            assert posted.status_code == 200, posted.text
        # Nor may a post clear a protected value.
        cleared = await submit(stranger, "newsletter", {"email": "ada@example.com", "tier": ""})
        assert cleared.status_code == 200, cleared.text
    ada = (await admin.get(f"/api/v2/contacts/{known.json()['id']}")).json()
    assert ada["fields"]["tier"] == "gold"
    assert ada["utm_source"] == "newsletter"
    assert ada["fields"]["topic"] == "deals"
    assert ada["first_name"] == "Mallory"
    # Empty fields are filled, whatever the flag.
    grace = (await admin.get(f"/api/v2/contacts/{blank.json()['id']}")).json()
    assert grace["fields"]["tier"] == "platinum"
    assert grace["utm_source"] == "evil"
