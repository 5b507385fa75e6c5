"""Segment filters on form submissions: "submitted form X" and "submitted value" (the SQL
behind the campaign condition ``form.submitted_value``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import String, cast, exists, func, not_, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from trellis.db.json import list_contains, value_text
from trellis.db.models import Contact, FormSubmission
from trellis.domains.segments.filters import (
    MAX_LIST_VALUES,
    MAX_TEXT_VALUE,
    Bound,
    CompileContext,
    FilterType,
    ValidationContext,
)
from trellis.domains.segments.schemas import Condition
from trellis.errors import FieldError, ValidationFailed

VALUE_OPERATORS = ("=", "!=", "contains", "starts_with", "ends_with", "empty", "not_empty")


def _fail(pointer: str, detail: str, code: str = "invalid_value") -> ValidationFailed:
    return ValidationFailed(detail, [FieldError(pointer, detail, code)])


def _id(value: Any, pointer: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 2**63:
        raise _fail(pointer, "Expected an id (a positive integer).")
    return value


class FormSubmittedFilter(FilterType):
    key = "form_submitted"
    label = "Submitted form"
    value_help = "A list of form ids: submitted any of them (in) or none of them (not_in)."

    def operators(self) -> Mapping[str, tuple[str, ...]]:
        return {"*": ("in", "not_in")}

    async def bind(self, ctx: ValidationContext, condition: Condition, pointer: str) -> Bound:
        if condition.operator not in ("in", "not_in"):
            raise _fail(
                f"{pointer}/operator",
                f"Unknown operator {condition.operator!r} for submitted form; use in or not_in.",
                "unknown_operator",
            )
        value: Any = condition.value
        if not isinstance(value, list) or not 1 <= len(value) <= MAX_LIST_VALUES:
            raise _fail(f"{pointer}/value", f"Expected a list of 1 to {MAX_LIST_VALUES} form ids.")
        ids = sorted({_id(item, f"{pointer}/value/{i}") for i, item in enumerate(value)})
        return Bound(
            type=self,
            operator=condition.operator,
            value=ids,
            pointer=pointer,
            stored={"type": self.key, "operator": condition.operator, "value": ids},
        )

    def compile(self, ctx: CompileContext, bound: Bound) -> ColumnElement[bool]:
        submission = aliased(FormSubmission)
        did = exists(
            select(submission.id).where(
                submission.contact_id == Contact.id, submission.form_id.in_(bound.value)
            )
        )
        return did if bound.operator == "in" else not_(did)


class FormValueFilter(FilterType):
    key = "form_submitted_value"
    label = "Submitted value"
    value_help = (
        'field: the input name; value: {"form_id": <id>, "value": <text>} (no value for empty '
        "and not_empty). True when any submission of the form matches."
    )

    def operators(self) -> Mapping[str, tuple[str, ...]]:
        return {"*": VALUE_OPERATORS}

    async def bind(self, ctx: ValidationContext, condition: Condition, pointer: str) -> Bound:
        if condition.operator not in VALUE_OPERATORS:
            raise _fail(
                f"{pointer}/operator",
                f"Unknown operator {condition.operator!r}; use one of: "
                f"{', '.join(VALUE_OPERATORS)}.",
                "unknown_operator",
            )
        name = condition.field or ""
        if not name or len(name) > 60 or not name.replace("_", "a").isalnum():
            raise _fail(f"{pointer}/field", "Name the form field by its input name.")
        value: Any = condition.value
        if not isinstance(value, dict):
            raise _fail(f"{pointer}/value", 'Expected {"form_id": <id>, "value": <text>}.')
        form_id = _id(value.get("form_id"), f"{pointer}/value/form_id")
        text: str | None = None
        original = ""
        if condition.operator not in ("empty", "not_empty"):
            raw = value.get("value")
            if raw is None or isinstance(raw, dict | list) or len(str(raw)) > MAX_TEXT_VALUE:
                raise _fail(f"{pointer}/value/value", "Expected a text or a number to compare.")
            original = str(raw)
            text = original.lower()
        stored_value = {"form_id": form_id, "value": value.get("value")}
        return Bound(
            type=self,
            operator=condition.operator,
            value=(form_id, name, text, original),
            pointer=pointer,
            stored={
                "type": self.key,
                "field": name,
                "operator": condition.operator,
                "value": stored_value,
            },
        )

    def compile(self, ctx: CompileContext, bound: Bound) -> ColumnElement[bool]:
        form_id, name, text, original = bound.value
        submission = aliased(FormSubmission)
        actual = func.lower(cast(value_text(submission.values, name), String))
        op = bound.operator
        test: ColumnElement[bool]
        if op in ("empty", "not_empty"):
            test = actual.is_not(None)
        elif op in ("=", "!="):
            # A checkbox group holds a list: "=" means the option was ticked.
            test = or_(actual == text, list_contains(submission.values, name, original))
        elif op == "contains":
            test = actual.contains(text, autoescape=True)
        elif op == "starts_with":
            test = actual.startswith(text, autoescape=True)
        else:
            test = actual.endswith(text, autoescape=True)
        found = exists(
            select(submission.id).where(
                submission.contact_id == Contact.id, submission.form_id == form_id, test
            )
        )
        return not_(found) if op in ("!=", "empty") else found


FILTER_TYPES = (FormSubmittedFilter(), FormValueFilter())
