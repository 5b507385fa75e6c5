"""Upserts by a user who may change only their own contacts (ADR 0015, issue 15 finding 2):
an item that matches someone else's contact is refused, and that contact stays as it was."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.test_permission_matrix import own_only_permissions
from tests.fixtures.api import Harness

API = "/api/v2"


async def own_only(harness: Harness, admin: httpx.AsyncClient, *names: str) -> list[Any]:
    """Clients and user ids of users with the role "OwnOnly", in the order named."""
    role = await admin.post(
        f"{API}/roles", json={"name": "OwnOnly", "permissions": own_only_permissions()}
    )
    assert role.status_code == 201, role.text
    people = []
    for name in names:
        user_id = await harness.create_user(f"{name}@example.com", role="OwnOnly")
        people.append((harness.client(token=await harness.create_token(user_id)), user_id))
    return people


async def test_a_batch_cannot_take_over_anothers_contact(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    (alice, alice_id), (bob, bob_id) = await own_only(harness, admin, "alice", "bob")
    hers = await alice.post(f"{API}/contacts", json={"email": "carol@example.com", "city": "Oslo"})
    assert hers.status_code == 201, hers.text
    before = (await admin.get(f"{API}/contacts/{hers.json()['id']}")).json()
    assert before["owner_id"] == alice_id

    response = await bob.post(
        f"{API}/contacts/batch",
        json={
            "contacts": [
                {"email": "carol@example.com", "city": "Rome", "owner_id": bob_id, "tags": ["x"]},
                {"email": "dave@example.com", "city": "Bern"},
            ]
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    refused, created = body["results"]
    assert refused["status"] == "refused"
    assert refused["id"] is None
    assert refused["errors"][0]["pointer"] == "/contacts/0/email"
    assert refused["errors"][0]["code"] == "forbidden"
    assert created["status"] == "created"
    assert (body["created"], body["updated"], body["refused"]) == (1, 0, 1)

    after = (await admin.get(f"{API}/contacts/{hers.json()['id']}")).json()
    assert after == before
    # Bob's new contact is his own, so he can see what he made.
    assert (await bob.get(f"{API}/contacts/{created['id']}")).json()["owner_id"] == bob_id


async def test_a_batch_cannot_give_contacts_away(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    (_, alice_id), (bob, _) = await own_only(harness, admin, "alice", "bob")
    mine = (await bob.post(f"{API}/contacts", json={"email": "erin@example.com"})).json()
    response = await bob.post(
        f"{API}/contacts/batch",
        json={
            "contacts": [
                {"email": "erin@example.com", "owner_id": alice_id},
                {"email": "frank@example.com", "owner_id": alice_id},
            ]
        },
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["refused", "refused"]
    assert {r["errors"][0]["pointer"] for r in results} == {
        "/contacts/0/owner_id",
        "/contacts/1/owner_id",
    }
    assert (await bob.get(f"{API}/contacts/{mine['id']}")).json()["owner_id"] != alice_id
    listed = await admin.get(f"{API}/contacts", params={"q": "frank"})
    assert listed.json()["meta"]["total"] == 0


async def test_an_identifying_field_match_is_refused_too(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    await admin.post(
        f"{API}/fields", json={"label": "CRM id", "type": "text", "is_identifier": True}
    )
    (alice, _), (bob, _) = await own_only(harness, admin, "alice", "bob")
    hers = (await alice.post(f"{API}/contacts", json={"fields": {"crm_id": "C-1"}})).json()
    response = await bob.post(
        f"{API}/contacts/batch",
        json={"contacts": [{"fields": {"crm_id": "C-1"}, "first_name": "Mallory"}]},
    )
    result = response.json()["results"][0]
    assert result["status"] == "refused"
    assert result["errors"][0]["pointer"] == "/contacts/0/fields/crm_id"
    assert (await alice.get(f"{API}/contacts/{hers['id']}")).json()["first_name"] is None


async def test_an_editor_of_others_still_updates_them(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    ((alice, _),) = await own_only(harness, admin, "alice")
    hers = (await alice.post(f"{API}/contacts", json={"email": "gina@example.com"})).json()
    response = await admin.post(
        f"{API}/contacts/batch", json={"contacts": [{"email": "gina@example.com", "city": "Rome"}]}
    )
    assert response.json()["results"][0] == {
        "index": 0,
        "status": "updated",
        "id": hers["id"],
        "errors": [],
    }
