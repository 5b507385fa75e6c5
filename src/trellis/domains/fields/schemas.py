from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from trellis.domains.fields.types import FieldType
from trellis.schemas import InputModel, Position

Alias = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
FieldObject = Literal["contact", "company"]


class FieldOption(InputModel):
    value: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    label: Annotated[str, StringConstraints(max_length=255)] = ""


class FieldRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int | None = Field(description="None for the built-in core fields.")
    object: str
    alias: str
    label: str
    type: FieldType
    group: str
    default_value: Any = None
    required: bool
    is_identifier: bool
    is_core: bool = False
    publicly_updatable: bool = Field(
        default=False,
        description="Whether an anonymous form post may replace a value the contact already "
        "has. When false, it only fills the field while it is empty.",
    )
    options: list[dict[str, str]] = []
    position: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int = 1


class FieldCreate(InputModel):
    object: FieldObject = "contact"
    alias: Alias | None = Field(default=None, description="Derived from the label when omitted.")
    label: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    type: FieldType
    group: Annotated[str, StringConstraints(min_length=1, max_length=40)] = "custom"
    default_value: Any = None
    required: bool = False
    is_identifier: bool = False
    publicly_updatable: bool = Field(
        default=False,
        description="Whether an anonymous form post may replace a value the contact already "
        "has. When false, it only fills the field while it is empty.",
    )
    options: Annotated[list[FieldOption], Field(max_length=1000)] = []
    position: Position = 0


class FieldUpdate(InputModel):
    label: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    group: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = None
    default_value: Any = None
    required: bool | None = None
    is_identifier: bool | None = None
    publicly_updatable: bool | None = None
    options: Annotated[list[FieldOption], Field(max_length=1000)] | None = None
    position: Position | None = None
