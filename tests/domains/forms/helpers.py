"""Building forms through the API."""

from __future__ import annotations

from typing import Any

import httpx


def newsletter(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Newsletter",
        "alias": "newsletter",
        "is_published": True,
        "fields": [
            {
                "label": "Email",
                "type": "email",
                "name": "email",
                "contact_field": "email",
                "required": True,
            },
            {
                "label": "First name",
                "type": "text",
                "name": "first_name",
                "contact_field": "first_name",
            },
            {
                "label": "Topics",
                "type": "checkbox_group",
                "name": "topics",
                "options": [
                    {"label": "News", "value": "news"},
                    {"label": "Deals", "value": "deals"},
                ],
            },
            {
                "label": "Consent",
                "type": "consent",
                "name": "consent",
                "required": True,
                "consent_text": "I agree to receive the newsletter.",
            },
        ],
        "success": {"kind": "message", "message": "Thanks, {formfield=first_name}!"},
        "allowed_origins": ["https://www.example.com"],
    }
    body.update(overrides)
    return body


async def create_form(admin: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    response = await admin.post("/api/v2/forms", json=newsletter(**overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def submit(
    client: httpx.AsyncClient, alias: str, data: dict[str, Any], **headers: str
) -> httpx.Response:
    return await client.post(
        f"/f/{alias}", json=data, headers={"Accept": "application/json", **headers}
    )
