"""Campaign export and import: requests and answers of the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from trellis.domains.assets.schemas import AssetMeta
from trellis.schemas import EntityId, InputModel

Choice = Literal["create", "update", "copy", "reuse"]
Status = Literal["new", "identical", "conflicting"]


class AssetDoc(AssetMeta):
    """An asset in the export file: its settings, and its file (``files/<file>`` in the ZIP)."""

    filename: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    file: Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F-]{36}$")]
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class ExportRequest(InputModel):
    campaign_ids: Annotated[list[EntityId], Field(min_length=1, max_length=100)]


class EntityAnalysis(BaseModel):
    kind: str
    uuid: str
    name: str
    status: Status = Field(
        description="new: nothing like it here; identical: the same uuid or name with the same "
        "content; conflicting: the same uuid or name with other content."
    )
    match: Literal["uuid", "name"] | None = Field(
        default=None, description="How the existing entity was found."
    )
    existing_id: int | None = None
    choices: list[Choice] = Field(
        description="create (new only), update the existing one, copy (import as a new "
        "entity beside it) or reuse the existing one as it is."
    )
    default: Choice


class TranslationNote(BaseModel):
    """Something of a Mautic export that was not translated, and why."""

    entity: str = Field(description="The Mautic record kind, e.g. campaign_event, lists, email.")
    name: str
    path: str = Field(description="JSON pointer into the Mautic file's entity_data.json.")
    message: str


Source = Literal["trellis", "mautic"]
NOTES_HELP = "The translation report of a Mautic export: what was not translated (else empty)."


class ImportAnalysis(BaseModel):
    source: Source = Field(default="trellis", description="Whose export the file is.")
    notes: list[TranslationNote] = Field(default_factory=list, description=NOTES_HELP)
    format_version: int
    trellis_version: str
    exported_at: datetime
    campaigns: list[str]
    entities: list[EntityAnalysis]
    warnings: list[str] = []


class ImportResult(BaseModel):
    source: Source = "trellis"
    notes: list[TranslationNote] = Field(default_factory=list, description=NOTES_HELP)
    import_id: int
    campaign_ids: list[int] = Field(description="The imported campaigns (always unpublished).")
    created: dict[str, list[int]]
    updated: dict[str, list[int]]
    reused: dict[str, list[int]]


class CampaignImportRead(BaseModel):
    id: int
    filename: str
    format_version: int
    exported_by: str
    created: dict[str, list[int]]
    updated: dict[str, list[int]]
    reused: dict[str, list[int]]
    campaign_ids: list[int]
    created_at: datetime
    undone_at: datetime | None
