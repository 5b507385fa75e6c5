from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from trellis.schemas import EntityId, InputModel

ProjectName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
ProjectIds = Annotated[
    list[EntityId],
    Field(max_length=100, description="Ids of the projects this entity belongs to."),
]


class ProjectRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    created_at: datetime
    updated_at: datetime
    version: int


class ProjectCreate(InputModel):
    name: ProjectName
    description: Annotated[str, StringConstraints(max_length=5000)] = ""


class ProjectUpdate(InputModel):
    name: ProjectName | None = None
    description: Annotated[str, StringConstraints(max_length=5000)] | None = None


class ProjectEntity(BaseModel):
    id: int
    name: str


class ProjectEntityGroup(BaseModel):
    entity_type: str
    label: str
    items: list[ProjectEntity]


class ProjectEntities(BaseModel):
    groups: list[ProjectEntityGroup]


class ProjectRef(BaseModel):
    id: int
    name: str
