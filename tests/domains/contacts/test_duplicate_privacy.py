"""A duplicate email or identifier answers 409; the other contact's id only to whoever may
open that contact."""

from __future__ import annotations

import httpx

from tests.api.test_permission_matrix import own_only_permissions
from tests.fixtures.api import Harness


async def test_a_conflict_names_the_other_contact_only_to_who_may_see_it(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    role = await admin.post(
        "/api/v2/roles", json={"name": "OwnOnly", "permissions": own_only_permissions()}
    )
    assert role.status_code == 201, role.text
    identifier = await admin.post(
        "/api/v2/fields",
        json={"label": "Customer number", "type": "text", "is_identifier": True},
    )
    assert identifier.status_code == 201, identifier.text
    clients = {}
    for name in ("alice", "bob"):
        user_id = await harness.create_user(f"{name}@example.com", role="OwnOnly")
        clients[name] = harness.client(token=await harness.create_token(user_id))
    async with clients["alice"] as alice, clients["bob"] as bob:
        hers = await alice.post(
            "/api/v2/contacts",
            json={"email": "ada@example.com", "fields": {"customer_number": "C-1"}},
        )
        assert hers.status_code == 201, hers.text
        hers_id = hers.json()["id"]
        for body, pointer in (
            ({"email": "ada@example.com"}, "/email"),
            ({"email": "bob@example.com", "fields": {"customer_number": "C-1"}}, None),
        ):
            refused = await bob.post("/api/v2/contacts", json=body)
            assert refused.status_code == 409
            assert "existing_id" not in refused.json()
            assert refused.json()["detail"].startswith("Another contact already has")
            if pointer:
                assert refused.json()["errors"][0]["pointer"] == pointer
        # Alice may open it: she is told which one.
        again = await alice.post("/api/v2/contacts", json={"email": "ada@example.com"})
        assert again.status_code == 409
        assert again.json()["existing_id"] == hers_id
