"""Companies: the organisations contacts work for, with company fields and an owner."""

from __future__ import annotations

import httpx

from tests.domains.contacts.test_upsert_permissions import own_only
from tests.fixtures.api import Harness

API = "/api/v2"


async def test_create_read_search_update_and_delete(admin: httpx.AsyncClient) -> None:
    field = await admin.post(
        f"{API}/fields", json={"object": "company", "label": "Employees", "type": "number"}
    )
    assert field.status_code == 201, field.text
    created = await admin.post(
        f"{API}/companies",
        json={"name": "Acme", "domain": "acme.example", "fields": {"employees": "120"}},
    )
    assert created.status_code == 201, created.text
    acme = created.json()
    assert acme["fields"] == {"employees": 120}
    assert created.headers["etag"]
    await admin.post(f"{API}/companies", json={"name": "Globex"})

    found = (await admin.get(f"{API}/companies", params={"q": "acm"})).json()
    assert [c["name"] for c in found["data"]] == ["Acme"]
    renamed = await admin.patch(f"{API}/companies/{acme['id']}", json={"name": "Acme Ltd"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Acme Ltd"
    assert renamed.json()["version"] == acme["version"] + 1

    assert (await admin.delete(f"{API}/companies/{acme['id']}")).status_code == 204
    assert (await admin.get(f"{API}/companies/{acme['id']}")).status_code == 404


async def test_bad_input_names_the_field(admin: httpx.AsyncClient) -> None:
    unknown = await admin.post(f"{API}/companies", json={"name": "X", "fields": {"nope": 1}})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["pointer"] == "/fields/nope"
    domain = await admin.post(f"{API}/companies", json={"name": "X", "domain": "not a domain"})
    assert domain.status_code == 422
    assert domain.json()["errors"][0]["pointer"] == "/domain"
    missing = await admin.patch(f"{API}/companies/999999", json={"name": "Y"})
    assert missing.status_code == 404


async def test_own_only_users_see_and_change_their_own_companies(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    (alice, alice_id), (bob, _) = await own_only(harness, admin, "alice", "bob")
    hers = await alice.post(f"{API}/companies", json={"name": "Initech"})
    assert hers.status_code == 201, hers.text
    assert hers.json()["owner_id"] == alice_id
    assert (await bob.get(f"{API}/companies")).json()["meta"]["total"] == 0
    assert (await bob.get(f"{API}/companies/{hers.json()['id']}")).status_code == 404
    patched = await bob.patch(f"{API}/companies/{hers.json()['id']}", json={"name": "Mine"})
    assert patched.status_code == 404
    assert (await alice.get(f"{API}/companies/{hers.json()['id']}")).json()["name"] == "Initech"
