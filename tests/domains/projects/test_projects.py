from __future__ import annotations

from collections.abc import Iterator, Sequence

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.api import Harness
from trellis import bootstrap
from trellis.actor import Actor
from trellis.domains.projects.links import ProjectableType, project_links

WIDGETS = {1: "Welcome series", 2: "Win-back"}


async def widget_names(
    session: AsyncSession, ids: Sequence[int], actor: Actor | None = None
) -> dict[int, str]:
    return {i: WIDGETS[i] for i in ids if i in WIDGETS}


@pytest.fixture
def widgets(harness: Harness) -> Iterator[None]:
    """A stand-in project-able entity, next to the application's own."""
    widget = ProjectableType("widget", "Widgets", "projects", widget_names)
    project_links.configure(projectables=[*bootstrap.PROJECTABLES, widget])
    yield
    project_links.configure(projectables=bootstrap.PROJECTABLES)


async def audit_of(client: httpx.AsyncClient, entity_type: str, entity_id: int) -> list[dict]:
    response = await client.get(
        "/api/v2/audit-log", params={"entity_type": entity_type, "entity_id": entity_id}
    )
    assert response.status_code == 200
    return response.json()["data"]


async def test_crud_and_rename_is_in_the_audit_log(admin: httpx.AsyncClient) -> None:
    created = await admin.post(
        "/api/v2/projects", json={"name": "Spring launch", "description": "Q2"}
    )
    assert created.status_code == 201
    project_id = created.json()["id"]
    renamed = await admin.patch(f"/api/v2/projects/{project_id}", json={"name": "Summer launch"})
    assert renamed.json()["name"] == "Summer launch"
    assert renamed.json()["version"] == 2
    entries = await audit_of(admin, "project", project_id)
    assert [e["action"] for e in entries] == ["update", "create"]
    assert entries[0]["changes"] == {"name": {"old": "Spring launch", "new": "Summer launch"}}
    assert entries[0]["actor_name"] == "admin@example.com"
    assert entries[0]["actor_type"] == "token"
    assert entries[0]["ip"] == "203.0.113.7"
    assert entries[1]["changes"]["name"] == {"old": None, "new": "Spring launch"}


async def test_unchanged_update_writes_no_audit_entry(admin: httpx.AsyncClient) -> None:
    project_id = (await admin.post("/api/v2/projects", json={"name": "Same"})).json()["id"]
    response = await admin.patch(f"/api/v2/projects/{project_id}", json={"name": "Same"})
    assert response.json()["version"] == 1
    assert len(await audit_of(admin, "project", project_id)) == 1


async def test_search_and_delete(admin: httpx.AsyncClient) -> None:
    for name in ("Alpha", "Beta", "Alphabet"):
        await admin.post("/api/v2/projects", json={"name": name})
    found = (await admin.get("/api/v2/projects", params={"q": "alpha"})).json()
    assert [p["name"] for p in found["data"]] == ["Alpha", "Alphabet"]
    beta = next(
        p for p in (await admin.get("/api/v2/projects")).json()["data"] if p["name"] == "Beta"
    )
    assert (await admin.delete(f"/api/v2/projects/{beta['id']}")).status_code == 204
    assert (await admin.get(f"/api/v2/projects/{beta['id']}")).status_code == 404
    entries = await audit_of(admin, "project", beta["id"])
    assert entries[0]["action"] == "delete"


async def test_association_changes_read_old_and_new_names(
    harness: Harness, admin: httpx.AsyncClient, widgets: None
) -> None:
    ids = {}
    for name in ("A", "B", "C"):
        ids[name] = (await admin.post("/api/v2/projects", json={"name": name})).json()["id"]
    actor = Actor.system("test")
    async with harness.database.unit_of_work() as session:
        first = await project_links.set_entity_projects(
            session,
            entity_type="widget",
            entity_id=1,
            project_ids=[ids["B"], ids["A"]],
            actor=actor,
            now=harness.clock.now(),
        )
        second = await project_links.set_entity_projects(
            session,
            entity_type="widget",
            entity_id=1,
            project_ids=[ids["A"], ids["C"]],
            actor=actor,
            now=harness.clock.now(),
        )
    assert first == ([], ["A", "B"])
    assert second == (["A", "B"], ["A", "C"])

    groups = (await admin.get(f"/api/v2/projects/{ids['A']}/entities")).json()["groups"]
    assert groups == [
        {
            "entity_type": "widget",
            "label": "Widgets",
            "items": [{"id": 1, "name": "Welcome series"}],
        }
    ]
    assert (await admin.get(f"/api/v2/projects/{ids['B']}/entities")).json()["groups"] == []


async def test_unknown_project_ids_point_at_the_item(
    harness: Harness, admin: httpx.AsyncClient, widgets: None
) -> None:
    from trellis.errors import ValidationFailed

    project_id = (await admin.post("/api/v2/projects", json={"name": "Real"})).json()["id"]
    async with harness.database.unit_of_work() as session:
        with pytest.raises(ValidationFailed) as raised:
            await project_links.set_entity_projects(
                session,
                entity_type="widget",
                entity_id=1,
                project_ids=[project_id, 999],
                actor=Actor.system("test"),
                now=harness.clock.now(),
            )
    assert [e.pointer for e in raised.value.errors] == ["/projects/1"]


async def test_deleting_a_project_keeps_its_entities_and_logs_on_them(
    harness: Harness, admin: httpx.AsyncClient, widgets: None
) -> None:
    a = (await admin.post("/api/v2/projects", json={"name": "A"})).json()["id"]
    b = (await admin.post("/api/v2/projects", json={"name": "B"})).json()["id"]
    async with harness.database.unit_of_work() as session:
        await project_links.set_entity_projects(
            session,
            entity_type="widget",
            entity_id=2,
            project_ids=[a, b],
            actor=Actor.system("test"),
            now=harness.clock.now(),
        )
    assert (await admin.delete(f"/api/v2/projects/{a}")).status_code == 204
    entries = await audit_of(admin, "widget", 2)
    assert entries[0]["changes"] == {"projects": {"old": ["A", "B"], "new": ["B"]}}
    assert entries[0]["entity_name"] == "Win-back"
    async with harness.database.unit_of_work() as session:
        remaining = await project_links.projects_of(session, "widget", [2])
    assert [p.name for p in remaining[2]] == ["B"]


async def test_marketer_edits_projects_analyst_only_reads(harness: Harness) -> None:
    async with await harness.client_as("m@example.com", role="Marketer") as marketer:
        created = await marketer.post("/api/v2/projects", json={"name": "Mine"})
        assert created.status_code == 201
        assert (await marketer.get("/api/v2/users")).status_code == 403
    async with await harness.client_as("a@example.com", role="Analyst") as analyst:
        project_id = created.json()["id"]
        assert (await analyst.get(f"/api/v2/projects/{project_id}")).status_code == 200
        patch = await analyst.patch(f"/api/v2/projects/{project_id}", json={"name": "Theirs"})
        assert patch.status_code == 403
        assert (await analyst.delete(f"/api/v2/projects/{project_id}")).status_code == 403
