from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from trellis.schemas import EntityId, InputModel

TagName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Header = Annotated[str, StringConstraints(max_length=500)]
Target = Annotated[str, StringConstraints(max_length=64)]
ImportStatus = Literal["queued", "running", "done", "failed"]


class ImportOptions(InputModel):
    """How to read the file and what to do with every contact in it."""

    mapping: Annotated[dict[Header, Target | None], Field(max_length=1000)] = Field(
        default_factory=dict,
        description=(
            "Overrides of the automatic mapping: CSV header -> field alias (or 'tags'); "
            "null or an empty string skips the column."
        ),
    )
    delimiter: Annotated[str, StringConstraints(max_length=10)] | None = Field(
        default=None,
        description=(
            "',', ';', tab or '|' (or comma, semicolon, tab, pipe); detected when absent."
        ),
    )
    encoding: Annotated[str, StringConstraints(max_length=20)] | None = Field(
        default=None, description="utf-8, latin-1 or cp1252; detected when absent."
    )
    tags: Annotated[list[TagName], Field(max_length=50)] = Field(
        default_factory=list, description="Tags added to every imported contact."
    )
    segment_id: EntityId | None = Field(
        default=None, description="A segment every imported contact is added to."
    )
    owner_id: EntityId | None = Field(
        default=None, description="The user who owns every imported contact."
    )


class CellErrorRead(BaseModel):
    line: int = Field(description="Line number in the file (the header is line 1).")
    column: str = Field(description="The CSV header of the cell; empty for whole-row problems.")
    reason: str
    value: str = ""


class ImportRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    status: ImportStatus
    filename: str
    size_bytes: int
    bytes_read: int
    progress: float = Field(description="bytes_read / size_bytes, from 0 to 1.")
    rows_read: int
    created: int
    updated: int
    unchanged: int
    failed: int
    errors: list[CellErrorRead] = Field(description="The first errors; all are in errors.csv.")
    message: str
    options: dict[str, Any]
    created_by_id: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class PreviewColumn(BaseModel):
    header: str
    target: str | None = Field(description="The field alias (or 'tags'); null when not imported.")
    samples: list[str]


class ImportPreview(BaseModel):
    encoding: str
    delimiter: str
    headers: list[str]
    mapping: dict[str, str | None] = Field(description="CSV header -> field alias, or null.")
    columns: list[PreviewColumn]
    rows: list[list[str]] = Field(description="The first rows, as read.")
    notes: list[str]
    errors: list[CellErrorRead] = Field(description="Problems found in the previewed rows.")
