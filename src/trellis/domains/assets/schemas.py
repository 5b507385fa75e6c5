"""Assets: the request and response models of the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from trellis.domains.projects.schemas import ProjectIds, ProjectRef
from trellis.schemas import EntityId, InputModel

AssetName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(max_length=5000)]
AssetSlug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$")]


class AssetRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    uuid: str
    slug: str | None
    name: str
    description: str
    filename: str
    content_type: str
    extension: str
    size: int
    sha256: str
    is_published: bool
    gate_form_id: int | None
    url: str = Field(default="", description="The tracked download link.")
    download_count: int = 0
    last_download_at: datetime | None = None
    projects: list[ProjectRef] = []
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime
    version: int


class AssetMeta(InputModel):
    """The fields of an upload besides the file (sent as multipart form fields)."""

    name: AssetName | None = None
    description: Description = ""
    slug: AssetSlug | None = None
    is_published: bool = False
    gate_form_id: EntityId | None = None
    projects: ProjectIds = Field(default_factory=list)


class AssetUpdate(InputModel):
    name: AssetName | None = None
    description: Description | None = None
    slug: AssetSlug | None = None
    is_published: bool | None = None
    gate_form_id: EntityId | None = Field(
        default=None, description="A form to fill in before the download; null: no gate."
    )
    projects: ProjectIds | None = None


class AssetLinkRead(BaseModel):
    url: str = Field(description="The download link, signed for the contact when one is given.")
