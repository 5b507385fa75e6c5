"""SQL for the generic project association, for the repositories of project-able entities."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.sql.elements import ColumnElement

from trellis.db.models import ProjectLink


def in_project(entity_type: str, id_column: Any, project_id: int) -> ColumnElement[bool]:
    """A WHERE clause: the entity is associated with the project."""
    linked: ColumnElement[bool] = id_column.in_(
        select(ProjectLink.entity_id).where(
            ProjectLink.entity_type == entity_type, ProjectLink.project_id == project_id
        )
    )
    return linked
