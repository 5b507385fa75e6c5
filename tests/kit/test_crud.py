"""The shared CRUD path: visibility, permissions, versions, projects and the audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from tests.fixtures.api import Harness
from trellis.actor import Actor
from trellis.db.models import AuditEntry, Company, ProjectLink
from trellis.db.pagination import PageRequest
from trellis.domains.companies.schemas import CompanyCreate
from trellis.domains.companies.service import COMPANIES, company_service
from trellis.domains.emails.schemas import EmailCreate
from trellis.domains.emails.service import EMAILS, email_service
from trellis.domains.projects.schemas import ProjectCreate
from trellis.domains.projects.service import project_service
from trellis.errors import NotFound, PermissionDenied, PreconditionFailed

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CRUD = ["view_own", "create", "edit_own", "delete_own"]


def person(user_id: int, **permissions: list[str]) -> Actor:
    return Actor(
        type="user",
        name=f"user{user_id}",
        user_id=user_id,
        permissions={k: frozenset(v) for k, v in permissions.items()},
    )


async def _users(harness: Harness) -> tuple[int, int]:
    return (
        await harness.create_user("alice@example.com", role="Marketer"),
        await harness.create_user("bob@example.com", role="Marketer"),
    )


def _email(name: str) -> EmailCreate:
    return EmailCreate.model_validate(
        {"name": name, "subject": "Hi", "body": "<mjml><mj-body></mj-body></mjml>"}
    )


async def test_view_own_sees_only_own_rows_everywhere(harness: Harness) -> None:
    alice_id, bob_id = await _users(harness)
    alice = person(alice_id, emails=CRUD)
    bob = person(bob_id, emails=CRUD)
    async with harness.database.unit_of_work() as session:
        mine = await email_service.create(session, data=_email("Alice's"), actor=alice, now=NOW)
        theirs = await email_service.create(session, data=_email("Bob's"), actor=bob, now=NOW)

    async with harness.database.unit_of_work() as session:
        listed = await email_service.list_page(session, actor=alice, page=PageRequest())
        assert [e.name for e in listed.items] == ["Alice's"]
        assert listed.total == 1
        searched = await email_service.list_page(session, actor=alice, page=PageRequest(), q="'s")
        assert [e.id for e in searched.items] == [mine.id]
        # A reference to what the actor cannot see is a reference to nothing.
        assert await EMAILS.existing_ids(session, [mine.id, theirs.id], actor=alice) == {mine.id}
        assert await EMAILS.names(session, [mine.id, theirs.id], alice) == {mine.id: "Alice's"}
        # By id, another's email does not exist for Alice (404, not 403: nothing is revealed).
        with pytest.raises(NotFound):
            await email_service.get(session, theirs.id, actor=alice)
        with pytest.raises(NotFound):
            await email_service.delete(session, theirs.id, actor=alice, now=NOW)
        # Seeing others' is not editing them.
        reader = person(alice_id, emails=["view_own", "view_others"])
        assert (await email_service.get(session, theirs.id, actor=reader)).id == theirs.id
        with pytest.raises(PermissionDenied):
            await EMAILS.for_edit(session, theirs.id, actor=reader)


async def test_an_update_is_versioned_and_audited_once(harness: Harness) -> None:
    admin = Actor.system("test")
    async with harness.database.unit_of_work() as session:
        company = await company_service.create(
            session, data=CompanyCreate(name="Acme"), actor=admin, now=NOW
        )

    async def rename(to: str, version: int | None) -> dict[str, Any]:
        async with harness.database.unit_of_work() as session:
            found = await COMPANIES.for_edit(session, company.id, actor=admin)

            async def apply(entity: Company) -> None:
                entity.name = to

            return await COMPANIES.update(
                session, found, actor=admin, now=NOW, expected_version=version, apply=apply
            )

    assert await rename("Acme Corp", 1) == {"name": {"old": "Acme", "new": "Acme Corp"}}
    assert await rename("Acme Corp", None) == {}  # nothing changed: no version, no entry
    with pytest.raises(PreconditionFailed):
        await rename("Acme Inc", 1)
    async with harness.database.unit_of_work() as session:
        stored = await session.get(Company, company.id)
        assert stored is not None
        assert stored.version == 2
        entries = (
            await session.scalars(
                select(AuditEntry.action).where(
                    AuditEntry.entity_type == "company", AuditEntry.entity_id == company.id
                )
            )
        ).all()
        assert list(entries) == ["create", "update"]


async def test_publishing_is_its_own_right_and_entry(harness: Harness) -> None:
    alice_id, _ = await _users(harness)
    editor = person(alice_id, emails=CRUD)
    async with harness.database.unit_of_work() as session:
        email = await email_service.create(session, data=_email("News"), actor=editor, now=NOW)

    async def publish(entity: Any) -> None:
        entity.is_published = True

    async def attempt(actor: Actor) -> None:
        async with harness.database.unit_of_work() as session:
            found = await EMAILS.for_edit(session, email.id, actor=actor)
            await EMAILS.update(
                session, found, actor=actor, now=NOW, expected_version=None, apply=publish
            )

    with pytest.raises(PermissionDenied):
        await attempt(editor)
    publisher = person(alice_id, emails=[*CRUD, "publish"])
    await attempt(publisher)
    async with harness.database.unit_of_work() as session:
        actions = (
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.entity_type == "email")
            )
        ).all()
        assert list(actions) == ["create", "publish"]


async def test_projects_are_linked_only_when_visible_and_forgotten_on_delete(
    harness: Harness,
) -> None:
    alice_id, bob_id = await _users(harness)
    alice = person(alice_id, emails=[*CRUD, "associate"], projects=CRUD)
    bob = person(bob_id, projects=CRUD)
    async with harness.database.unit_of_work() as session:
        hers = await project_service.create(
            session, data=ProjectCreate(name="Spring"), actor=alice, now=NOW
        )
        his = await project_service.create(
            session, data=ProjectCreate(name="Autumn"), actor=bob, now=NOW
        )
    async with harness.database.unit_of_work() as session:
        data = _email("In Bob's project")
        data.projects = [his.id]
        with pytest.raises(Exception, match="Some projects do not exist"):
            await email_service.create(session, data=data, actor=alice, now=NOW)
    async with harness.database.unit_of_work() as session:
        data = _email("In Alice's project")
        data.projects = [hers.id]
        email = await email_service.create(session, data=data, actor=alice, now=NOW)
    async with harness.database.unit_of_work() as session:
        await email_service.delete(session, email.id, actor=alice, now=NOW)
        links = (await session.scalars(select(ProjectLink))).all()
        assert links == []
