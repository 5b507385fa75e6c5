"""Projects group campaigns with their emails, pages, forms, assets and segments.

Any domain opts in with a :class:`ProjectableType` (the composition root lists them) and by
calling :meth:`ProjectService.set_entity_projects` from its create and update. Deleting a project
removes the associations, never the entities.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor, Perm
from trellis.db.models import Project
from trellis.db.pagination import Page, PageRequest
from trellis.domains.audit.service import AuditAction, audit, diff
from trellis.domains.projects.repository import ProjectRepository
from trellis.domains.projects.schemas import (
    ProjectCreate,
    ProjectEntities,
    ProjectEntity,
    ProjectEntityGroup,
    ProjectUpdate,
)
from trellis.domains.users.service import check_version
from trellis.errors import Conflict, FieldError, NotFound, ValidationFailed, json_pointer
from trellis.wiring import Slot

NameLookup = Callable[[AsyncSession, Sequence[int]], Awaitable[dict[int, str]]]


@dataclass(frozen=True)
class ProjectableType:
    entity_type: str
    label: str
    resource: str
    names: NameLookup


def _snapshot(project: Project) -> dict[str, Any]:
    return {"name": project.name, "description": project.description}


class ProjectService:
    projectables: Slot[Mapping[str, ProjectableType]] = Slot()

    def configure(self, *, projectables: Sequence[ProjectableType]) -> None:
        self.projectables = {kind.entity_type: kind for kind in projectables}

    async def get(self, session: AsyncSession, project_id: int, *, actor: Actor) -> Project:
        project = await ProjectRepository(session).get(project_id)
        if project is None:
            raise NotFound(f"No project with id {project_id}.")
        actor.require_on("projects", Perm.VIEW_OWN, Perm.VIEW_OTHERS, project.created_by_id)
        return project

    async def list_page(
        self, session: AsyncSession, *, actor: Actor, page: PageRequest, q: str | None
    ) -> Page[Project]:
        actor.require_view_any("projects")
        return await ProjectRepository(session).list_page(page=page, q=q)

    async def _ensure_unique(
        self, repo: ProjectRepository, name: str, *, except_id: int | None = None
    ) -> None:
        existing = await repo.by_name(name)
        if existing is not None and existing.id != except_id:
            raise Conflict(
                f"A project named {name!r} exists.",
                [FieldError("/name", "This name is taken.", "duplicate")],
            )

    async def create(
        self, session: AsyncSession, *, data: ProjectCreate, actor: Actor, now: datetime
    ) -> Project:
        actor.require("projects", Perm.CREATE)
        repo = ProjectRepository(session)
        await self._ensure_unique(repo, data.name)
        project = Project(
            name=data.name,
            description=data.description,
            created_by_id=actor.user_id,
            created_at=now,
            updated_at=now,
        )
        repo.add(project)
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action=AuditAction.CREATE,
            entity_type="project",
            entity_id=project.id,
            entity_name=project.name,
            changes=diff({}, _snapshot(project)),
            now=now,
        )
        return project

    async def update(
        self,
        session: AsyncSession,
        project_id: int,
        *,
        data: ProjectUpdate,
        actor: Actor,
        now: datetime,
        expected_version: int | None,
    ) -> Project:
        repo = ProjectRepository(session)
        project = await repo.get(project_id)
        if project is None:
            raise NotFound(f"No project with id {project_id}.")
        actor.require_on("projects", Perm.EDIT_OWN, Perm.EDIT_OTHERS, project.created_by_id)
        check_version(project, expected_version)
        before = _snapshot(project)
        changes = data.model_dump(exclude_unset=True, exclude_none=True)
        if "name" in changes:
            await self._ensure_unique(repo, changes["name"], except_id=project.id)
        for field, value in changes.items():
            setattr(project, field, value)
        after = _snapshot(project)
        if after != before:
            project.version += 1
            project.updated_at = now
            await session.flush()
            await audit.record(
                session,
                actor=actor,
                action=AuditAction.UPDATE,
                entity_type="project",
                entity_id=project.id,
                entity_name=project.name,
                changes=diff(before, after),
                now=now,
            )
        return project

    async def delete(
        self, session: AsyncSession, project_id: int, *, actor: Actor, now: datetime
    ) -> None:
        repo = ProjectRepository(session)
        project = await repo.get(project_id)
        if project is None:
            raise NotFound(f"No project with id {project_id}.")
        actor.require_on("projects", Perm.DELETE_OWN, Perm.DELETE_OTHERS, project.created_by_id)
        links = await repo.links_of_project(project.id)
        # The entities stay; each loses this project, and its own audit log says so.
        for link in links:
            current = (await repo.projects_of(link.entity_type, [link.entity_id]))[link.entity_id]
            names_before = [p.name for p in current]
            names_after = [p.name for p in current if p.id != project.id]
            kind = self.projectables.get(link.entity_type)
            entity_names = await kind.names(session, [link.entity_id]) if kind else {}
            await audit.record(
                session,
                actor=actor,
                action=AuditAction.UPDATE,
                entity_type=link.entity_type,
                entity_id=link.entity_id,
                entity_name=entity_names.get(link.entity_id, ""),
                changes={"projects": {"old": names_before, "new": names_after}},
                now=now,
            )
        snapshot = _snapshot(project)
        await repo.delete(project)
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action=AuditAction.DELETE,
            entity_type="project",
            entity_id=project_id,
            entity_name=snapshot["name"],
            changes={**diff(snapshot, {}), "entities_unlinked": {"old": len(links), "new": 0}},
            now=now,
        )

    async def entities(
        self, session: AsyncSession, project_id: int, *, actor: Actor
    ) -> ProjectEntities:
        await self.get(session, project_id, actor=actor)
        links = await ProjectRepository(session).links_of_project(project_id)
        by_type: dict[str, list[int]] = {}
        for link in links:
            by_type.setdefault(link.entity_type, []).append(link.entity_id)
        groups = []
        for entity_type, ids in sorted(by_type.items()):
            kind = self.projectables.get(entity_type)
            if kind is None or not actor.can_view_any(kind.resource):
                continue
            names = await kind.names(session, ids)
            items = sorted(
                (ProjectEntity(id=i, name=names[i]) for i in ids if i in names),
                key=lambda e: (e.name.lower(), e.id),
            )
            groups.append(
                ProjectEntityGroup(entity_type=entity_type, label=kind.label, items=items)
            )
        return ProjectEntities(groups=groups)

    # -- the generic association, for project-able domains ------------------------------

    async def projects_of(
        self, session: AsyncSession, entity_type: str, entity_ids: Sequence[int]
    ) -> dict[int, list[Project]]:
        return await ProjectRepository(session).projects_of(entity_type, entity_ids)

    async def set_entity_projects(
        self,
        session: AsyncSession,
        *,
        entity_type: str,
        entity_id: int,
        project_ids: Sequence[int],
        actor: Actor,
        now: datetime,
        pointer: str = "/projects",
    ) -> tuple[list[str], list[str]]:
        """Replace an entity's projects; returns the project names before and after.

        The caller puts ``{"projects": {"old": before, "new": after}}`` into the entity's own
        audit entry, so that the change reads "A, B -> A, C" there.
        """
        kind = self.projectables[entity_type]
        repo = ProjectRepository(session)
        current = (await repo.projects_of(entity_type, [entity_id]))[entity_id]
        wanted_ids = list(dict.fromkeys(project_ids))
        if {p.id for p in current} == set(wanted_ids):
            names = [p.name for p in current]
            return names, names
        actor.require(kind.resource, Perm.ASSOCIATE)
        found = {p.id: p for p in await repo.by_ids(wanted_ids)}
        missing = [
            FieldError(
                json_pointer(*pointer.strip("/").split("/"), index), "Unknown project.", "not_found"
            )
            for index, pid in enumerate(wanted_ids)
            if pid not in found
        ]
        if missing:
            raise ValidationFailed("Some projects do not exist.", missing)
        await repo.replace_links(entity_type, entity_id, wanted_ids, now=now)
        before = [p.name for p in current]
        after = sorted((found[i].name for i in wanted_ids), key=str.lower)
        return before, after

    async def forget_entity(
        self, session: AsyncSession, *, entity_type: str, entity_id: int
    ) -> None:
        await ProjectRepository(session).remove_entity(entity_type, entity_id)


project_service = ProjectService()
