from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from trellis.schemas import InputModel

CompanyName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Domain = Annotated[
    str, StringConstraints(max_length=253, pattern=r"^$|^([a-zA-Z0-9-]{1,63}\.)+[a-zA-Z]{2,63}$")
]


class CompanyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    domain: str | None
    fields: dict[str, Any]
    owner_id: int | None = None
    contacts: int = 0
    created_at: datetime
    updated_at: datetime
    version: int


class CompanyCreate(InputModel):
    name: CompanyName
    domain: Domain | None = None
    fields: Annotated[dict[str, Any], Field(max_length=500)] = Field(default_factory=dict)
    owner_id: int | None = Field(
        default=None,
        ge=1,
        description="The user who owns the company. Default: whoever creates it.",
    )


class CompanyUpdate(InputModel):
    name: CompanyName | None = None
    domain: Domain | None = None
    fields: Annotated[dict[str, Any], Field(max_length=500)] | None = None
    owner_id: int | None = Field(default=None, ge=1)
