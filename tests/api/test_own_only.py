"""Issue 15's findings for users who may see and change only their own data (ADR 0015):
Alice and Bob both have the role "OwnOnly"; each finding is replayed the way it was found."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.test_permission_matrix import own_only_permissions
from tests.domains.campaigns.helpers import edge, step
from tests.fixtures.api import Harness

API = "/api/v2"


@pytest.fixture
async def people(harness: Harness, admin: httpx.AsyncClient) -> dict[str, httpx.AsyncClient]:
    permissions = own_only_permissions()
    permissions["emails"] = [*permissions["emails"], "associate"]
    role = await admin.post(f"{API}/roles", json={"name": "OwnOnly", "permissions": permissions})
    assert role.status_code == 201, role.text
    clients = {"admin": admin}
    for name in ("alice", "bob"):
        user_id = await harness.create_user(f"{name}@example.com", role="OwnOnly")
        clients[name] = harness.client(token=await harness.create_token(user_id))
    return clients


async def _made(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(f"{API}/{path}", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _email(name: str) -> dict[str, Any]:
    return {"name": name, "subject": "Hi", "body": "<mjml><mj-body></mj-body></mjml>"}


def _anyone() -> dict[str, Any]:
    return {
        "match": "all",
        "conditions": [{"type": "field", "field": "email", "operator": "contains", "value": "@"}],
    }


async def test_lists_show_nothing_of_others_with_search_and_project(
    people: dict[str, httpx.AsyncClient],
) -> None:
    alice, bob = people["alice"], people["bob"]
    project = await _made(bob, "projects", {"name": "Launch"})
    mine = await _made(bob, "emails", {**_email("Launch mail"), "projects": [project["id"]]})
    await _made(alice, "emails", _email("Launch secret"))
    await _made(people["admin"], "emails", _email("Launch admin"))
    for params in ({}, {"q": "Launch"}, {"project": project["id"]}):
        listed = await bob.get(f"{API}/emails", params=params)
        assert listed.status_code == 200
        assert [e["id"] for e in listed.json()["data"]] == [mine["id"]], params
    # Alice cannot list what is in Bob's project, nor put anything of hers into it.
    assert (await alice.get(f"{API}/projects/{project['id']}/entities")).status_code == 404
    sneaky = await alice.post(f"{API}/emails", json={**_email("x"), "projects": [project["id"]]})
    assert sneaky.status_code == 422
    assert sneaky.json()["errors"][0]["pointer"] == "/projects/0"


async def test_segments_count_and_list_only_the_viewers_contacts(
    harness: Harness, people: dict[str, httpx.AsyncClient]
) -> None:
    alice, bob = people["alice"], people["bob"]
    hers = await _made(alice, "contacts", {"email": "carol@alice.example"})
    his = await _made(bob, "contacts", {"email": "dave@bob.example"})
    await _made(people["admin"], "contacts", {"email": "erin@admin.example"})
    # No oracle: a count answers only for Bob's contacts, whatever the filter asks.
    count = await bob.post(f"{API}/segments/count", json={"filters": _anyone()})
    assert count.status_code == 200, count.text
    assert count.json()["count"] == 1
    segment = await _made(
        bob, "segments", {"name": "Everyone", "filters": _anyone(), "is_published": False}
    )
    rebuilt = await people["admin"].post(f"{API}/segments/{segment['id']}/rebuild")
    assert rebuilt.status_code in (200, 202), rebuilt.text
    await harness.app.state.jobs.drain()
    members = await bob.get(f"{API}/segments/{segment['id']}/members")
    assert [m["contact_id"] for m in members.json()["data"]] == [his["id"]]
    # Even the administrator sees only Bob's contacts in Bob's segment: it holds no others.
    as_admin = await people["admin"].get(f"{API}/segments/{segment['id']}/members")
    assert [m["contact_id"] for m in as_admin.json()["data"]] == [his["id"]]
    # Adding Alice's contact by hand: for Bob it does not exist.
    added = await bob.post(
        f"{API}/segments/{segment['id']}/members", json={"contact_ids": [hers["id"]]}
    )
    assert added.status_code == 200, added.text
    assert added.json()["not_found"] == [hers["id"]]


async def test_a_campaign_cannot_reach_others_contacts_or_entities(
    people: dict[str, httpx.AsyncClient],
) -> None:
    alice, bob = people["alice"], people["bob"]
    hers = await _made(alice, "contacts", {"email": "carol@alice.example", "first_name": "Carol"})
    her_segment = await _made(
        alice,
        "segments",
        {"name": "Alice's list", "filters": _anyone(), "is_public": False, "is_published": False},
    )
    her_email = await _made(alice, "emails", _email("Alice's mail"))
    rename = step("contact.update_fields", {"values": {"first_name": "Pwned"}})
    campaign = await _made(
        bob,
        "campaigns",
        {"name": "Bob's", "events": [rename], "edges": [edge(None, rename)], "sources": []},
    )
    # Alice's contact is nobody to Bob: refused, and nothing runs on it.
    joined = await bob.post(
        f"{API}/campaigns/{campaign['id']}/members", json={"contact_ids": [hers["id"]]}
    )
    assert joined.status_code == 422, joined.text
    assert joined.json()["errors"][0]["pointer"] == "/contact_ids/0"
    contact = await alice.get(f"{API}/contacts/{hers['id']}")
    assert contact.json()["first_name"] == "Carol"
    # Her segment and email are not references Bob can make.
    send = step("email.send", {"email_id": her_email["id"]})
    refused = await bob.put(
        f"{API}/campaigns/{campaign['id']}",
        json={
            "name": "Bob's",
            "events": [send],
            "edges": [edge(None, send)],
            "sources": [{"kind": "segment", "id": her_segment["id"]}],
        },
    )
    assert refused.status_code == 422, refused.text
    pointers = {e["pointer"] for e in refused.json()["errors"]}
    assert {"/sources/0/id", "/events/0/config/email_id"} <= pointers
    # An administrator's campaign that takes in Alice's segment counts and takes only what its
    # owner may change; Bob's preview of his own campaign names nothing of Alice's.
    preview = await bob.get(f"{API}/campaigns/{campaign['id']}/publish-preview")
    assert preview.status_code == 200
    assert "Alice" not in preview.text
