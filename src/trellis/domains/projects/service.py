"""Projects group campaigns with their emails, pages, forms, assets and segments (the
associations themselves are :mod:`trellis.domains.projects.links`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor
from trellis.db.models import Project
from trellis.db.pagination import Page, PageRequest
from trellis.domains.audit.service import AuditAction, audit
from trellis.domains.projects.links import project_links
from trellis.domains.projects.repository import ProjectRepository
from trellis.domains.projects.schemas import (
    ProjectCreate,
    ProjectEntities,
    ProjectEntity,
    ProjectEntityGroup,
    ProjectUpdate,
)
from trellis.errors import Conflict, FieldError
from trellis.kit.crud import AuditedCrud, EntityKind


def _snapshot(project: Project) -> dict[str, Any]:
    return {"name": project.name, "description": project.description}


PROJECTS: AuditedCrud[Project] = AuditedCrud(
    EntityKind(
        resource="projects",
        entity_type="project",
        label="project",
        repository=ProjectRepository,
        snapshot=_snapshot,
    )
)


class ProjectService:
    crud = PROJECTS

    async def get(self, session: AsyncSession, project_id: int, *, actor: Actor) -> Project:
        return await self.crud.get(session, project_id, actor=actor)

    async def list_page(
        self, session: AsyncSession, *, actor: Actor, page: PageRequest, q: str | None
    ) -> Page[Project]:
        return await self.crud.list_page(session, actor=actor, page=page, q=q)

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
        await self._ensure_unique(ProjectRepository(session), data.name)
        project = Project(
            name=data.name,
            description=data.description,
            created_by_id=actor.user_id,
            created_at=now,
            updated_at=now,
        )
        return await self.crud.create(session, project, actor=actor, now=now)

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
        project = await self.crud.for_edit(session, project_id, actor=actor)

        async def apply(project: Project) -> None:
            changes = data.model_dump(exclude_unset=True, exclude_none=True)
            if "name" in changes:
                await self._ensure_unique(
                    ProjectRepository(session), changes["name"], except_id=project.id
                )
            for field, value in changes.items():
                setattr(project, field, value)

        await self.crud.update(
            session, project, actor=actor, now=now, expected_version=expected_version, apply=apply
        )
        return project

    async def delete(
        self, session: AsyncSession, project_id: int, *, actor: Actor, now: datetime
    ) -> None:
        project = await self.crud.for_delete(session, project_id, actor=actor)
        repo = ProjectRepository(session)
        links = await repo.links_of_project(project.id)
        # The entities stay; each loses this project, and its own audit log says so.
        for link in links:
            current = (await repo.projects_of(link.entity_type, [link.entity_id]))[link.entity_id]
            kind = project_links.projectables.get(link.entity_type)
            entity_names = await kind.names(session, [link.entity_id]) if kind else {}
            await audit.record(
                session,
                actor=actor,
                action=AuditAction.UPDATE,
                entity_type=link.entity_type,
                entity_id=link.entity_id,
                entity_name=entity_names.get(link.entity_id, ""),
                changes={
                    "projects": {
                        "old": [p.name for p in current],
                        "new": [p.name for p in current if p.id != project.id],
                    }
                },
                now=now,
            )
        await self.crud.delete(
            session,
            project,
            actor=actor,
            now=now,
            extra={"entities_unlinked": {"old": len(links), "new": 0}},
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
            kind = project_links.projectables.get(entity_type)
            if kind is None or not actor.can_view_any(kind.resource):
                continue
            names = await kind.names(session, ids, actor)
            items = sorted(
                (ProjectEntity(id=i, name=names[i]) for i in ids if i in names),
                key=lambda e: (e.name.lower(), e.id),
            )
            groups.append(
                ProjectEntityGroup(entity_type=entity_type, label=kind.label, items=items)
            )
        return ProjectEntities(groups=groups)


project_service = ProjectService()
