"""Conditions on field values: each value checked for its field's type and operator, and
compiled to SQL over a column or a JSON value, relative dates in each contact's timezone."""

from __future__ import annotations

import calendar
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import (
    String,
    and_,
    false,
    func,
    literal,
    not_,
    or_,
)
from sqlalchemy.sql.elements import ColumnElement

from trellis.db.json import list_contains, value_bool, value_number, value_text
from trellis.db.patterns import matches_pattern
from trellis.db.types import UTCDateTime
from trellis.domains.fields.service import FieldSpec
from trellis.domains.fields.types import (
    COMPARISON,
    Comparison,
    FieldType,
    InvalidValue,
    coerce,
)
from trellis.domains.segments.filters import (
    KIND_OPERATORS,
    MAX_TEXT_VALUE,
    CompileContext,
    DateValue,
    Instant,
    _check_operator,
    _shape,
    parse_date_value,
)
from trellis.domains.segments.schemas import Condition
from trellis.patterns import PatternError, check_pattern

Temporal = Literal["column", "text_datetime", "text_date"]


@dataclass(frozen=True)
class Operand:
    """How to read one field of the contact in SQL."""

    kind: Comparison
    expr: Any
    temporal: Temporal | None = None
    # For list fields: the JSON column and key, for list_contains.
    json: tuple[Any, str] | None = None


def _text_item(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidValue("Expected text.")
    text = str(value)
    if len(text) > MAX_TEXT_VALUE:
        raise InvalidValue(f"At most {MAX_TEXT_VALUE} characters.")
    return text


def _number_item(value: Any) -> int | float:
    if isinstance(value, bool | list | dict):
        raise InvalidValue("Expected a number.")
    number: int | float = coerce(FieldType.NUMBER, value)
    if number is None:
        raise InvalidValue("Expected a number.")
    return number


def _int32_item(value: Any) -> int | float:
    """A number compared with a 32-bit integer column (points)."""
    number = _number_item(value)
    if not -(2**31) <= number < 2**31:
        raise InvalidValue("The number is out of range (at most 2,147,483,647 either way).")
    return number


def _bool_item(value: Any) -> bool:
    result = coerce(FieldType.BOOLEAN, value)
    if result is None:
        raise InvalidValue("Expected true or false.")
    return bool(result)


def _regexp_item(value: Any) -> str:
    text = _text_item(value)
    try:
        check_pattern(text, portable=True)
    except PatternError as exc:
        raise InvalidValue(str(exc)) from None
    return text


def _value_checker(kind: Comparison, operator: str) -> Callable[[Any], Any]:
    if kind == Comparison.NUMBER:
        return _number_item
    if kind == Comparison.BOOLEAN:
        return _bool_item
    if kind in (Comparison.DATE, Comparison.DATETIME):
        return lambda v: parse_date_value(v, kind)
    if operator == "regexp":
        return _regexp_item
    return _text_item


def bind_field_value(
    condition: Condition, pointer: str, kind: Comparison, field_label: str
) -> tuple[Any, Any]:
    """(value for compiling, value for storing) of a condition on a field of this kind."""
    operator = _check_operator(condition, pointer, KIND_OPERATORS[kind], field_label)
    checked = _shape(condition, pointer, operator, _value_checker(kind, operator.key))
    if kind in (Comparison.DATE, Comparison.DATETIME) and checked is not None:
        if isinstance(checked, list):
            return [c[0] for c in checked], [c[1] for c in checked]
        return checked[0], checked[1]
    return checked, checked


def _lower(value: str) -> ColumnElement[str]:
    return func.lower(literal(value, String()))


def _temporal_bounds(ctx: CompileContext, operand: Operand, value: DateValue) -> tuple[Any, Any]:
    """(low inclusive, high exclusive) for a date value, per contact timezone."""
    temporal = operand.temporal
    assert temporal is not None
    if isinstance(value, Instant):
        if temporal == "column":
            return (
                literal(value.at, UTCDateTime()),
                literal(value.at + timedelta(microseconds=1), UTCDateTime()),
            )
        fmt = "%Y-%m-%dT%H:%M:%S"
        return (
            literal(value.at.strftime(fmt), String()),
            literal((value.at + timedelta(seconds=1)).strftime(fmt), String()),
        )

    def local(zone: zoneinfo.ZoneInfo) -> tuple[date, date]:
        return value.period(ctx.local_today(zone))

    if temporal == "text_date":
        return (
            ctx.per_timezone(lambda z: local(z)[0].isoformat(), String()),
            ctx.per_timezone(lambda z: local(z)[1].isoformat(), String()),
        )

    def instant(day: date, zone: zoneinfo.ZoneInfo) -> datetime:
        return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)

    if temporal == "column":
        return (
            ctx.per_timezone(lambda z: instant(local(z)[0], z), UTCDateTime()),
            ctx.per_timezone(lambda z: instant(local(z)[1], z), UTCDateTime()),
        )
    fmt = "%Y-%m-%dT%H:%M:%S"
    return (
        ctx.per_timezone(lambda z: instant(local(z)[0], z).strftime(fmt), String()),
        ctx.per_timezone(lambda z: instant(local(z)[1], z).strftime(fmt), String()),
    )


def _anniversary(ctx: CompileContext, operand: Operand) -> ColumnElement[bool]:
    def month_day(zone: zoneinfo.ZoneInfo) -> str:
        return ctx.local_today(zone).strftime("%m-%d")

    def leap_day(zone: zoneinfo.ZoneInfo) -> str:
        # On 28 February of a common year, 29 February birthdays count too.
        today = ctx.local_today(zone)
        is_feb_28 = (today.month, today.day) == (2, 28) and not calendar.isleap(today.year)
        return "02-29" if is_feb_28 else today.strftime("%m-%d")

    stored = func.substr(operand.expr, 6, 5)
    return or_(
        stored == ctx.per_timezone(month_day, String()),
        stored == ctx.per_timezone(leap_day, String()),
    )


def field_predicate(
    ctx: CompileContext, operand: Operand, operator: str, value: Any
) -> ColumnElement[bool]:
    """A two-valued SQL test of one field: empty values never match a comparison, and
    match the negative operators (!=, not in, does not contain)."""
    expr: ColumnElement[Any] = operand.expr
    kind = operand.kind
    is_null: ColumnElement[bool] = expr.is_(None)
    text = kind == Comparison.TEXT

    if operator == "empty":
        if kind == Comparison.LIST:
            return or_(is_null, expr == "[]")
        return or_(is_null, expr == "") if text else is_null
    if operator == "not_empty":
        if kind == Comparison.LIST:
            return and_(expr.is_not(None), expr != "[]")
        return and_(expr.is_not(None), expr != "") if text else expr.is_not(None)
    if kind == Comparison.LIST:
        assert operand.json is not None
        column, key = operand.json
        hits = [func.coalesce(list_contains(column, key, str(v)), false()) for v in value]
        return or_(*hits) if operator == "in" else and_(*[not_(h) for h in hits])
    if operand.temporal is not None:
        return _temporal_predicate(ctx, operand, operator, value)
    if text:
        return _text_predicate(expr, operator, value)
    return _value_predicate(expr, operator, value)


def _temporal_predicate(
    ctx: CompileContext, operand: Operand, operator: str, value: Any
) -> ColumnElement[bool]:
    """Dates and times, against the bounds of the day (or period) the value names."""
    expr: ColumnElement[Any] = operand.expr
    if operator == "anniversary":
        return and_(expr.is_not(None), _anniversary(ctx, operand))
    if operator == "between":
        low, _ = _temporal_bounds(ctx, operand, value[0])
        _, high = _temporal_bounds(ctx, operand, value[1])
        return and_(expr >= low, expr < high)
    low, high = _temporal_bounds(ctx, operand, value)
    if operator == "!=":
        return or_(expr.is_(None), expr < low, expr >= high)
    tests: dict[str, ColumnElement[bool]] = {
        "=": and_(expr >= low, expr < high),
        ">": and_(expr >= high),
        ">=": and_(expr >= low),
        "<": and_(expr < low),
        "<=": and_(expr < high),
    }
    return tests[operator]


def _text_predicate(expr: ColumnElement[Any], operator: str, value: Any) -> ColumnElement[bool]:
    """Text, compared without regard to case."""
    is_null: ColumnElement[bool] = expr.is_(None)
    lowered = func.lower(expr)
    if operator in ("=", "!="):
        equal = lowered == _lower(value)
        return equal if operator == "=" else or_(is_null, not_(equal))
    if operator in ("in", "not_in"):
        listed = lowered.in_([_lower(v) for v in value])
        return listed if operator == "in" else or_(is_null, not_(listed))
    if operator in ("contains", "not_contains"):
        found = expr.icontains(str(value), autoescape=True)
        return found if operator == "contains" else or_(is_null, not_(found))
    if operator == "starts_with":
        return expr.istartswith(str(value), autoescape=True)
    if operator == "ends_with":
        return expr.iendswith(str(value), autoescape=True)
    if operator == "like":
        return expr.ilike(literal(value, String()))
    if operator == "regexp":
        return matches_pattern(expr, value)
    raise AssertionError(operator)


def _value_predicate(expr: ColumnElement[Any], operator: str, value: Any) -> ColumnElement[bool]:
    """Numbers and booleans."""
    is_null: ColumnElement[bool] = expr.is_(None)
    if operator == "between":
        first, last = (literal(v) for v in sorted(value))
        return and_(expr >= first, expr <= last)
    if operator in ("in", "not_in"):
        listed = expr.in_(value)
        return listed if operator == "in" else or_(is_null, not_(listed))
    bound = literal(value)
    if operator == "!=":
        return or_(is_null, expr != bound)
    tests: dict[str, ColumnElement[bool]] = {
        "=": expr == bound,
        ">": expr > bound,
        ">=": expr >= bound,
        "<": expr < bound,
        "<=": expr <= bound,
    }
    return tests[operator]


def _temporal_of(kind: Comparison, *, column: bool) -> Temporal | None:
    if kind == Comparison.DATE:
        return "text_date"
    if kind == Comparison.DATETIME:
        return "column" if column else "text_datetime"
    return None


def _json_operand(column: Any, spec: FieldSpec) -> Operand:
    kind = COMPARISON[spec.type]
    if kind == Comparison.NUMBER:
        return Operand(kind, value_number(column, spec.alias))
    if kind == Comparison.BOOLEAN:
        return Operand(kind, value_bool(column, spec.alias))
    if kind == Comparison.LIST:
        return Operand(kind, value_text(column, spec.alias), json=(column, spec.alias))
    return Operand(kind, value_text(column, spec.alias), _temporal_of(kind, column=False))


def _kinds_help() -> dict[str, tuple[str, ...]]:
    return {str(kind): ops for kind, ops in KIND_OPERATORS.items()}


_FIELD_VALUE_HELP = (
    "text: a string (like: % and _ wildcards; regexp: an RE2 regular expression, case "
    "ignored, no backreferences or lookaround); number: a "
    "number; boolean: true or false; date and datetime: YYYY-MM-DD, an ISO 8601 time "
    "(datetime), or a relative date: today, yesterday, tomorrow, +N/-N days|weeks|months|"
    "years, this|last|next week|month|year, evaluated in the contact's timezone; list "
    "operators (in, not_in) take a list, between takes [from, to]."
)
