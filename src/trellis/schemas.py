"""Building blocks shared by every domain's request and response schemas."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# Ids are 64-bit signed integers on every dialect.
MAX_ID = 2**63 - 1

EntityId = Annotated[int, Field(ge=1, le=MAX_ID)]


class InputModel(BaseModel):
    """Request bodies reject unknown fields instead of silently dropping them."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
