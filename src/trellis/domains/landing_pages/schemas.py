"""Landing pages: the request and response models of the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from trellis.domains.emails.schemas import Language
from trellis.domains.projects.schemas import ProjectIds, ProjectRef
from trellis.schemas import EntityId, InputModel

PageName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Title = Annotated[str, StringConstraints(min_length=1, max_length=300)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$")]
MetaDescription = Annotated[str, StringConstraints(max_length=500)]
Html = Annotated[str, StringConstraints(max_length=1_000_000)]
Css = Annotated[str, StringConstraints(max_length=500_000)]


class PageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    title: str
    slug: str
    language: str
    meta_description: str
    html: str
    css: str
    is_published: bool
    content_version: int
    url: str = ""
    projects: list[ProjectRef] = []
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime
    version: int


class PageCreate(InputModel):
    name: PageName
    title: Title
    slug: Slug | None = Field(
        default=None, description="The address /p/<slug>; made from the name when left out."
    )
    language: Language = "en"
    meta_description: MetaDescription = ""
    html: Html = ""
    css: Css = ""
    is_published: bool = False
    projects: ProjectIds = Field(default_factory=list)


class PageUpdate(InputModel):
    name: PageName | None = None
    title: Title | None = None
    slug: Slug | None = None
    language: Language | None = None
    meta_description: MetaDescription | None = None
    html: Html | None = None
    css: Css | None = None
    is_published: bool | None = None
    projects: ProjectIds | None = None


class PageClone(InputModel):
    name: PageName | None = None
    slug: Slug | None = None


class PagePreviewRequest(InputModel):
    contact_id: EntityId | None = Field(
        default=None,
        description="Render with this contact's fields; none: as an anonymous visitor.",
    )
    html: Html | None = Field(default=None, description="Unsaved body to preview instead.")
    css: Css | None = Field(default=None, description="Unsaved CSS to preview instead.")


class PagePreviewRead(BaseModel):
    html: str
