"""Path and query parameters shared by the endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from trellis.schemas import MAX_ID

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
OptionalIdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
# No NUL characters: no database can hold them.
TEXT_PATTERN = r"^[^\x00]*$"
SearchQuery = Annotated[
    str | None,
    Query(max_length=200, pattern=TEXT_PATTERN, description="Case-insensitive search"),
]
