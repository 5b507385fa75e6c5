from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from trellis.schemas import InputModel, Position

StageName = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class StageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    position: int
    created_at: datetime
    updated_at: datetime
    version: int


class StageCreate(InputModel):
    name: StageName
    description: Annotated[str, StringConstraints(max_length=2000)] = ""
    position: Position | None = None


class StageUpdate(InputModel):
    name: StageName | None = None
    description: Annotated[str, StringConstraints(max_length=2000)] | None = None
    position: Position | None = None
