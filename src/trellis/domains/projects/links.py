"""The association of entities with projects, for every project-able domain.

A domain opts in with a :class:`ProjectableType` (the composition root lists them) and by
passing ``projects`` to the shared CRUD path (:mod:`trellis.kit.crud`), which calls
:meth:`ProjectLinks.set_entity_projects`. Deleting a project removes the associations, never
the entities.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor, Perm
from trellis.db.models import Project
from trellis.domains.projects.repository import ProjectRepository
from trellis.errors import FieldError, ValidationFailed, json_pointer
from trellis.kit.visibility import owned_rows
from trellis.wiring import Slot


class NameLookup(Protocol):
    """The names of entities by id (only those ``actor`` may see, when given)."""

    def __call__(
        self, session: AsyncSession, ids: Sequence[int], actor: Actor | None = None
    ) -> Awaitable[dict[int, str]]: ...


@dataclass(frozen=True)
class ProjectableType:
    entity_type: str
    label: str
    resource: str
    names: NameLookup


class ProjectLinks:
    projectables: Slot[Mapping[str, ProjectableType]] = Slot()

    def configure(self, *, projectables: Sequence[ProjectableType]) -> None:
        self.projectables = {kind.entity_type: kind for kind in projectables}

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

        Only projects the actor may see can be chosen: anything else is an unknown project.
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
        visible = owned_rows(actor, "projects", Project.created_by_id)
        found = {p.id: p for p in await repo.by_ids(wanted_ids, where=visible)}
        missing = [
            FieldError(
                json_pointer(*pointer.strip("/").split("/"), index), "Unknown project.", "not_found"
            )
            for index, pid in enumerate(wanted_ids)
            if pid not in found and pid not in {p.id for p in current}
        ]
        if missing:
            raise ValidationFailed("Some projects do not exist.", missing)
        known = {**{p.id: p for p in current}, **found}
        await repo.replace_links(entity_type, entity_id, wanted_ids, now=now)
        before = [p.name for p in current]
        after = sorted((known[i].name for i in wanted_ids), key=str.lower)
        return before, after

    async def forget_entity(
        self, session: AsyncSession, *, entity_type: str, entity_id: int
    ) -> None:
        await ProjectRepository(session).remove_entity(entity_type, entity_id)


project_links = ProjectLinks()
