from __future__ import annotations

import httpx

from tests.fixtures.api import PASSWORD, Harness


async def role_id(client: httpx.AsyncClient, name: str) -> int:
    roles = (await client.get("/api/v2/roles")).json()["data"]
    return next(r["id"] for r in roles if r["name"] == name)


async def test_builtin_roles_and_permission_catalogue(admin: httpx.AsyncClient) -> None:
    roles = {r["name"]: r for r in (await admin.get("/api/v2/roles")).json()["data"]}
    assert set(roles) == {"Administrator", "Marketer", "Analyst"}
    assert roles["Administrator"]["is_admin"] is True
    assert roles["Analyst"]["permissions"]["projects"] == ["view_own", "view_others"]
    assert "users" not in roles["Marketer"]["permissions"]
    catalogue = (await admin.get("/api/v2/permissions")).json()
    assert {"key": "associate", "label": "Associate with projects"} in catalogue["permissions"]
    assert any(r["key"] == "projects" for r in catalogue["resources"])


async def test_builtin_roles_cannot_be_changed_or_deleted(admin: httpx.AsyncClient) -> None:
    analyst = await role_id(admin, "Analyst")
    assert (await admin.patch(f"/api/v2/roles/{analyst}", json={"name": "X"})).status_code == 409
    assert (await admin.delete(f"/api/v2/roles/{analyst}")).status_code == 409


async def test_custom_role_grants_exactly_its_matrix(
    harness: Harness, admin: httpx.AsyncClient
) -> None:
    created = await admin.post(
        "/api/v2/roles",
        json={"name": "Project lead", "permissions": {"projects": ["view_others", "create"]}},
    )
    assert created.status_code == 201
    user = await admin.post(
        "/api/v2/users",
        json={"email": "lead@example.com", "password": PASSWORD, "role_id": created.json()["id"]},
    )
    assert user.status_code == 201
    assert user.json()["role_name"] == "Project lead"
    token = await harness.create_token(user.json()["id"])
    async with harness.client(token=token) as lead:
        assert (await lead.post("/api/v2/projects", json={"name": "Mine"})).status_code == 201
        project_id = (await lead.get("/api/v2/projects")).json()["data"][0]["id"]
        # No edit permission, not even on their own project.
        patch = await lead.patch(f"/api/v2/projects/{project_id}", json={"name": "Renamed"})
        assert patch.status_code == 403
    role_in_use = await admin.delete(f"/api/v2/roles/{created.json()['id']}")
    assert role_in_use.status_code == 409


async def test_role_matrix_is_validated(admin: httpx.AsyncClient) -> None:
    unknown_resource = await admin.post(
        "/api/v2/roles", json={"name": "R", "permissions": {"rockets": ["create"]}}
    )
    assert unknown_resource.status_code == 422
    inapplicable = await admin.post(
        "/api/v2/roles", json={"name": "R", "permissions": {"audit_log": ["create"]}}
    )
    assert inapplicable.status_code == 422


async def test_role_update_is_audited_as_permission_changes(admin: httpx.AsyncClient) -> None:
    created = (
        await admin.post("/api/v2/roles", json={"name": "R", "permissions": {"projects": []}})
    ).json()
    await admin.patch(
        f"/api/v2/roles/{created['id']}",
        json={"permissions": {"projects": ["view_others"]}},
    )
    entries = (
        await admin.get(
            "/api/v2/audit-log", params={"entity_type": "role", "entity_id": created["id"]}
        )
    ).json()["data"]
    assert entries[0]["changes"] == {
        "permissions": {"changes": {"projects": {"old": [], "new": ["view_others"]}}}
    }


async def test_user_crud_with_validation(admin: httpx.AsyncClient) -> None:
    marketer = await role_id(admin, "Marketer")
    bad = await admin.post(
        "/api/v2/users",
        json={
            "email": "not-an-email",
            "password": "short",
            "role_id": marketer,
            "timezone": "Mars/Olympus",
        },
    )
    assert bad.status_code == 422
    assert {e["pointer"] for e in bad.json()["errors"]} == {"/email", "/timezone"}
    weak = await admin.post(
        "/api/v2/users", json={"email": "m@example.com", "password": "short", "role_id": marketer}
    )
    assert weak.status_code == 422
    assert weak.json()["errors"][0]["pointer"] == "/password"
    created = await admin.post(
        "/api/v2/users",
        json={
            "email": "M@Example.com",
            "name": "Mia",
            "password": PASSWORD,
            "role_id": marketer,
            "timezone": "Europe/Paris",
        },
    )
    assert created.status_code == 201
    user = created.json()
    assert user["email"] == "m@example.com"
    duplicate = await admin.post(
        "/api/v2/users", json={"email": "m@example.com", "password": PASSWORD, "role_id": marketer}
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["errors"][0]["pointer"] == "/email"
    updated = await admin.patch(f"/api/v2/users/{user['id']}", json={"name": "Mia R."})
    assert updated.json()["name"] == "Mia R."
    entries = (
        await admin.get(
            "/api/v2/audit-log", params={"entity_type": "user", "entity_id": user["id"]}
        )
    ).json()["data"]
    assert entries[0]["changes"] == {"name": {"old": "Mia", "new": "Mia R."}}
    assert entries[1]["changes"]["password"] == {"old": "[redacted]", "new": "[redacted]"}
    assert (await admin.delete(f"/api/v2/users/{user['id']}")).status_code == 204
    assert (await admin.get(f"/api/v2/users/{user['id']}")).status_code == 404


async def test_the_last_administrator_is_kept(harness: Harness, admin: httpx.AsyncClient) -> None:
    me = (await admin.get("/api/v2/auth/me")).json()["user"]
    marketer = await role_id(admin, "Marketer")
    demote = await admin.patch(f"/api/v2/users/{me['id']}", json={"role_id": marketer})
    assert demote.status_code == 409
    deactivate = await admin.patch(f"/api/v2/users/{me['id']}", json={"is_active": False})
    assert deactivate.status_code == 409
    assert (await admin.delete(f"/api/v2/users/{me['id']}")).status_code == 409


async def test_users_edit_their_own_profile_but_not_their_role(harness: Harness) -> None:
    async with await harness.client_as("m@example.com", role="Marketer") as marketer:
        me = (await marketer.get("/api/v2/auth/me")).json()["user"]
        ok = await marketer.patch(f"/api/v2/users/{me['id']}", json={"timezone": "Asia/Tokyo"})
        assert ok.status_code == 200
        assert ok.json()["timezone"] == "Asia/Tokyo"
        escalate = await marketer.patch(f"/api/v2/users/{me['id']}", json={"role_id": 1})
        assert escalate.status_code == 403
