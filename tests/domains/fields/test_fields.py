"""Custom fields: typed values on contacts, aliases, and what deleting a field does."""

from __future__ import annotations

import httpx


async def make_field(admin: httpx.AsyncClient, **body: object) -> dict:
    response = await admin.post("/api/v2/fields", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def test_custom_fields_are_typed_and_filterable_values(admin: httpx.AsyncClient) -> None:
    await make_field(
        admin,
        label="Plan",
        type="select",
        options=[{"value": "free"}, {"value": "pro"}],
        default_value="free",
    )
    await make_field(admin, label="Seats", type="number")
    await make_field(admin, label="Renewal date", type="date")
    await make_field(
        admin, label="Interests", type="multiselect", options=[{"value": "seo"}, {"value": "ads"}]
    )
    ok = await admin.post(
        "/api/v2/contacts",
        json={
            "email": "c@example.com",
            "fields": {"seats": "12", "renewal_date": "2027-01-31", "interests": ["ads"]},
        },
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["fields"] == {
        "plan": "free",
        "seats": 12,
        "renewal_date": "2027-01-31",
        "interests": ["ads"],
    }
    bad = await admin.post(
        "/api/v2/contacts",
        json={
            "email": "d@example.com",
            "fields": {"plan": "gold", "seats": "many", "renewal_date": "31/01/2027"},
        },
    )
    assert bad.status_code == 422
    assert {e["pointer"] for e in bad.json()["errors"]} == {
        "/fields/plan",
        "/fields/seats",
        "/fields/renewal_date",
    }


async def test_field_aliases_never_collide_with_core_fields(admin: httpx.AsyncClient) -> None:
    for alias in ("email", "points", "tags"):
        response = await admin.post(
            "/api/v2/fields", json={"alias": alias, "label": "X", "type": "text"}
        )
        assert response.status_code == 409, alias
        assert response.json()["errors"][0]["pointer"] == "/alias"
    derived = await make_field(admin, label="Lead source!", type="text")
    assert derived["alias"] == "lead_source"
    again = await admin.post("/api/v2/fields", json={"label": "Lead source", "type": "text"})
    assert again.status_code == 409
    listed = (await admin.get("/api/v2/fields")).json()
    assert any(f["alias"] == "email" and f["is_core"] for f in listed)
    assert any(f["alias"] == "lead_source" and not f["is_core"] for f in listed)


async def test_deleting_a_field_drops_its_values(admin: httpx.AsyncClient) -> None:
    field = await make_field(admin, label="Shoe size", type="number")
    contact = (
        await admin.post(
            "/api/v2/contacts", json={"email": "s@example.com", "fields": {"shoe_size": 42}}
        )
    ).json()
    assert (await admin.delete(f"/api/v2/fields/{field['id']}")).status_code == 204
    reread = (await admin.get(f"/api/v2/contacts/{contact['id']}")).json()
    assert reread["fields"] == {}
