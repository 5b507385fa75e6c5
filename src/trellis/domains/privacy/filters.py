"""The segment filter "has consent for purpose X" (the SQL behind the campaign condition
``contact.has_consent``): the contact's latest consent record for the purpose grants it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import not_
from sqlalchemy.sql.elements import ColumnElement

from trellis.db.models import Contact
from trellis.domains.privacy.repository import has_consent
from trellis.domains.segments.filters import (
    Bound,
    CompileContext,
    FilterType,
    ValidationContext,
)
from trellis.domains.segments.schemas import Condition
from trellis.errors import FieldError, ValidationFailed

_PURPOSE_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_.-")


def _fail(pointer: str, detail: str, code: str = "invalid_value") -> ValidationFailed:
    return ValidationFailed(detail, [FieldError(pointer, detail, code)])


class ConsentFilter(FilterType):
    key = "consent"
    label = "Has consent"
    value_help = (
        "The purpose (marketing, profiling, ...): = the consent stands (given and not withdrawn "
        "since), != it does not."
    )

    def operators(self) -> Mapping[str, tuple[str, ...]]:
        return {"*": ("=", "!=")}

    async def bind(self, ctx: ValidationContext, condition: Condition, pointer: str) -> Bound:
        if condition.operator not in ("=", "!="):
            raise _fail(
                f"{pointer}/operator",
                f"Unknown operator {condition.operator!r} for consent; use = or !=.",
                "unknown_operator",
            )
        value: Any = condition.value
        if (
            not isinstance(value, str)
            or not 1 <= len(value) <= 64
            or not set(value) <= _PURPOSE_CHARS
        ):
            raise _fail(
                f"{pointer}/value",
                "Expected a purpose: lower-case letters, digits, '_', '.' or '-'.",
            )
        return Bound(
            type=self,
            operator=condition.operator,
            value=value,
            pointer=pointer,
            stored={"type": self.key, "operator": condition.operator, "value": value},
        )

    def compile(self, ctx: CompileContext, bound: Bound) -> ColumnElement[bool]:
        granted = has_consent(bound.value, Contact.id)
        return granted if bound.operator == "=" else not_(granted)


FILTER_TYPES = (ConsentFilter(),)
