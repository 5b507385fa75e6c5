"""Segment filters on email behaviour: "opened email X" and "clicked email X"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import exists, not_, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from trellis.db.models import Contact, EmailSendTracking
from trellis.domains.segments.filters import (
    MAX_LIST_VALUES,
    Bound,
    CompileContext,
    FilterType,
    ValidationContext,
)
from trellis.domains.segments.schemas import Condition
from trellis.errors import FieldError, ValidationFailed


def _fail(pointer: str, detail: str, code: str = "invalid_value") -> ValidationFailed:
    return ValidationFailed(detail, [FieldError(pointer, detail, code)])


class _EmailBehaviourFilter(FilterType):
    value_help = "A list of email ids: did it for any of them (in) or for none (not_in)."

    def __init__(self, key: str, label: str, column: str) -> None:
        self.key = key
        self.label = label
        self._column = column

    def operators(self) -> Mapping[str, tuple[str, ...]]:
        return {"*": ("in", "not_in")}

    async def bind(self, ctx: ValidationContext, condition: Condition, pointer: str) -> Bound:
        if condition.operator not in ("in", "not_in"):
            raise _fail(
                f"{pointer}/operator",
                f"Unknown operator {condition.operator!r} for {self.label.lower()}; use in or "
                "not_in.",
                "unknown_operator",
            )
        value: Any = condition.value
        if not isinstance(value, list) or not 1 <= len(value) <= MAX_LIST_VALUES:
            raise _fail(f"{pointer}/value", f"Expected a list of 1 to {MAX_LIST_VALUES} email ids.")
        for index, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, int) or not 1 <= item < 2**63:
                raise _fail(f"{pointer}/value/{index}", "Expected an id (a positive integer).")
        ids = sorted(set(value))
        return Bound(
            type=self,
            operator=condition.operator,
            value=ids,
            pointer=pointer,
            stored={"type": condition.type, "operator": condition.operator, "value": ids},
        )

    def compile(self, ctx: CompileContext, bound: Bound) -> ColumnElement[bool]:
        tracked = aliased(EmailSendTracking)
        did = exists(
            select(tracked.send_id).where(
                tracked.contact_id == Contact.id,
                tracked.email_id.in_(bound.value),
                getattr(tracked, self._column).is_not(None),
            )
        )
        return did if bound.operator == "in" else not_(did)


FILTER_TYPES = (
    _EmailBehaviourFilter("email_opened", "Opened email", "first_opened_at"),
    _EmailBehaviourFilter("email_clicked", "Clicked a link in email", "first_clicked_at"),
)
