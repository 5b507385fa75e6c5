"""Building blocks shared by every domain's request and response schemas."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

# Ids are 64-bit signed integers on every dialect.
MAX_ID = 2**63 - 1

EntityId = Annotated[int, Field(ge=1, le=MAX_ID)]
# Positions and other small numbers stored in 32-bit columns.
Position = Annotated[int, Field(ge=0, le=1_000_000)]


# What may not appear in a value that goes into a mail header: a line break would end the
# header and start one of the writer's choosing (Bcc:, a second From:), and other control
# characters are not text. A tab is folding white space and stays.
_NOT_IN_HEADER = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _one_header_line(value: str) -> str:
    if _NOT_IN_HEADER.search(value):
        raise ValueError(
            "Line breaks and control characters are not allowed: this goes into a mail header"
        )
    return value


# After a type's own constraints, so that they stay in the JSON schema.
OneHeaderLine = AfterValidator(_one_header_line)
HeaderText = Annotated[str, OneHeaderLine]


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(_has_nul(v) for v in value)
    return False


class InputModel(BaseModel):
    """Request bodies reject unknown fields instead of silently dropping them, and text with
    NUL characters, which no database column can hold."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if _has_nul(value):
            raise ValueError("NUL characters are not allowed")
        return value
