from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.sql.elements import ColumnElement

from trellis.db.models import Project, ProjectLink
from trellis.kit.repository import EntityRepository


class ProjectRepository(EntityRepository[Project]):
    model = Project

    async def by_name(self, name: str) -> Project | None:
        return await self.session.scalar(
            select(Project).where(func.lower(Project.name) == name.lower())
        )

    async def by_ids(
        self, ids: Sequence[int], *, where: ColumnElement[bool] | None = None
    ) -> list[Project]:
        if not ids:
            return []
        stmt = select(Project).where(Project.id.in_(ids))
        if where is not None:
            stmt = stmt.where(where)
        return list((await self.session.scalars(stmt)).all())

    async def links_of_project(self, project_id: int) -> list[ProjectLink]:
        return list(
            (
                await self.session.scalars(
                    select(ProjectLink)
                    .where(ProjectLink.project_id == project_id)
                    .order_by(ProjectLink.entity_type, ProjectLink.entity_id)
                )
            ).all()
        )

    async def projects_of(
        self, entity_type: str, entity_ids: Sequence[int]
    ) -> dict[int, list[Project]]:
        result: dict[int, list[Project]] = {i: [] for i in entity_ids}
        if not entity_ids:
            return result
        rows = await self.session.execute(
            select(ProjectLink.entity_id, Project)
            .join(Project, Project.id == ProjectLink.project_id)
            .where(ProjectLink.entity_type == entity_type, ProjectLink.entity_id.in_(entity_ids))
            .order_by(Project.name, Project.id)
        )
        for entity_id, project in rows.all():
            result[entity_id].append(project)
        return result

    async def replace_links(
        self, entity_type: str, entity_id: int, project_ids: Sequence[int], *, now: datetime
    ) -> None:
        await self.session.execute(
            delete(ProjectLink).where(
                ProjectLink.entity_type == entity_type, ProjectLink.entity_id == entity_id
            )
        )
        for project_id in dict.fromkeys(project_ids):
            self.session.add(
                ProjectLink(
                    project_id=project_id,
                    entity_type=entity_type,
                    entity_id=entity_id,
                    created_at=now,
                )
            )
        await self.session.flush()

    async def remove_entity(self, entity_type: str, entity_id: int) -> None:
        await self.session.execute(
            delete(ProjectLink).where(
                ProjectLink.entity_type == entity_type, ProjectLink.entity_id == entity_id
            )
        )
