"""Segment filter types: a registry, like the campaign event types.

A filter type checks a condition (its field, operator and value) and compiles it to one SQL
boolean over the ``contacts`` row, so that counting and rebuilding stay single set-based
statements. Values and field aliases reach the database only as bound parameters or through
the JSON helpers of :mod:`trellis.db.json`, never as SQL text.

Relative dates ("today", "-3 days", "this month", anniversaries) are evaluated in each
contact's timezone: the bounds are computed here, in Python, for every timezone the contacts
in scope use, and compiled to a ``CASE contacts.timezone ...`` that picks the right bound per
row (contacts without a timezone use the default one). Timezones with the same bounds share
one branch, so the SQL stays small.

Built-in types are listed in :data:`BUILTIN_FILTER_TYPES`; other domains (behaviour filters:
opened an email, visited a page, submitted a form) export theirs, and the composition root
(:mod:`trellis.bootstrap`) puts them all in one :class:`FilterRegistry`.
"""

from __future__ import annotations

import calendar
import dataclasses
import re
import zoneinfo
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any, Literal

from sqlalchemy import (
    String,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from trellis.db.json import list_contains, value_bool, value_number, value_text
from trellis.db.models import (
    Company,
    Contact,
    ContactCompany,
    ContactTag,
    DoNotContact,
    SegmentMember,
    Tag,
)
from trellis.db.patterns import matches_pattern
from trellis.db.types import UTCDateTime
from trellis.domains.fields.service import FieldCatalog, FieldSpec
from trellis.domains.fields.types import (
    COMPARISON,
    CORE_CONTACT_FIELDS,
    Comparison,
    FieldType,
    InvalidValue,
    coerce,
)
from trellis.domains.segments.schemas import Condition, FilterGroup, FilterTypeRead, OperatorRead
from trellis.errors import FieldError, ValidationFailed
from trellis.patterns import PatternError, check_pattern

MAX_LIST_VALUES = 500
MAX_TEXT_VALUE = 1000

ValueShape = Literal["none", "single", "list", "pair"]


@dataclass(frozen=True)
class Operator:
    key: str
    label: str
    value: ValueShape


OPERATORS: dict[str, Operator] = {
    op.key: op
    for op in (
        Operator("=", "equals", "single"),
        Operator("!=", "does not equal", "single"),
        Operator(">", "greater than / after", "single"),
        Operator(">=", "greater than or equal / on or after", "single"),
        Operator("<", "less than / before", "single"),
        Operator("<=", "less than or equal / on or before", "single"),
        Operator("between", "between (inclusive)", "pair"),
        Operator("empty", "is empty", "none"),
        Operator("not_empty", "is not empty", "none"),
        Operator("in", "is any of", "list"),
        Operator("not_in", "is none of", "list"),
        Operator("contains", "contains", "single"),
        Operator("not_contains", "does not contain", "single"),
        Operator("starts_with", "starts with", "single"),
        Operator("ends_with", "ends with", "single"),
        Operator("like", "matches a LIKE pattern (% and _)", "single"),
        Operator("regexp", "matches a regular expression", "single"),
        Operator("matches", "matches a pattern (* for anything)", "single"),
        Operator("anniversary", "anniversary is today", "none"),
        Operator("has_any", "has any of", "list"),
        Operator("has_all", "has all of", "list"),
        Operator("has_none", "has none of", "list"),
        Operator("on", "is on the Do Not Contact list", "none"),
        Operator("not_on", "is not on the Do Not Contact list", "none"),
    )
}

_ORDER = ("=", "!=", ">", ">=", "<", "<=", "between")
KIND_OPERATORS: dict[Comparison, tuple[str, ...]] = {
    Comparison.TEXT: (
        "=",
        "!=",
        "in",
        "not_in",
        "empty",
        "not_empty",
        "contains",
        "not_contains",
        "starts_with",
        "ends_with",
        "like",
        "regexp",
    ),
    Comparison.NUMBER: (*_ORDER, "in", "not_in", "empty", "not_empty"),
    Comparison.DATE: (*_ORDER, "empty", "not_empty", "anniversary"),
    Comparison.DATETIME: (*_ORDER, "empty", "not_empty"),
    Comparison.BOOLEAN: ("=", "!=", "empty", "not_empty"),
    Comparison.LIST: ("in", "not_in", "empty", "not_empty"),
}

# -- relative dates ------------------------------------------------------------------------

_RELATIVE = re.compile(
    r"^(?:(?P<word>today|yesterday|tomorrow)"
    r"|(?P<sign>[+-])\s*(?P<n>\d{1,4})\s*(?P<unit>day|week|month|year)s?"
    r"|(?P<which>this|last|next)\s+(?P<period>week|month|year))$"
)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


@dataclass(frozen=True)
class Relative:
    """A period named relative to the contact's local today, such as 'this month'."""

    text: str

    def period(self, today: date) -> tuple[date, date]:
        match = _RELATIVE.match(self.text)
        assert match is not None
        if word := match["word"]:
            offset = {"today": 0, "yesterday": -1, "tomorrow": 1}[word]
            day = today + timedelta(days=offset)
            return day, day + timedelta(days=1)
        if match["sign"]:
            n = int(match["n"]) * (1 if match["sign"] == "+" else -1)
            unit = match["unit"]
            if unit == "day":
                day = today + timedelta(days=n)
            elif unit == "week":
                day = today + timedelta(weeks=n)
            else:
                day = _add_months(today, n * (12 if unit == "year" else 1))
            return day, day + timedelta(days=1)
        shift = {"this": 0, "last": -1, "next": 1}[match["which"]]
        period = match["period"]
        if period == "week":
            start = today - timedelta(days=today.weekday()) + timedelta(weeks=shift)
            return start, start + timedelta(days=7)
        if period == "month":
            start = _add_months(today.replace(day=1), shift)
            return start, _add_months(start, 1)
        start = date(today.year + shift, 1, 1)
        return start, date(start.year + 1, 1, 1)


@dataclass(frozen=True)
class OnDay:
    """An absolute date: the whole local day."""

    day: date

    def period(self, today: date) -> tuple[date, date]:
        return self.day, self.day + timedelta(days=1)


@dataclass(frozen=True)
class Instant:
    """An absolute moment (datetime fields only): the same for every timezone."""

    at: datetime


DateValue = Relative | OnDay | Instant


def parse_date_value(value: Any, kind: Comparison) -> tuple[DateValue, Any]:
    """A date value and its normalised JSON form; raises InvalidValue."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(
            "Expected a date (YYYY-MM-DD), a relative date such as 'today', '-3 days' or "
            "'this month'" + (", or an ISO 8601 date and time." if kind == "datetime" else ".")
        )
    text = " ".join(value.strip().lower().split())
    if _RELATIVE.match(text):
        return Relative(text), text
    if len(text) == 10:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            pass
        else:
            return OnDay(day), day.isoformat()
    if kind == Comparison.DATETIME:
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
            moment = moment.astimezone(UTC)
            return Instant(moment), moment.isoformat().replace("+00:00", "Z")
    raise InvalidValue(
        f"{value!r} is not a date (YYYY-MM-DD) or a relative date such as 'today', "
        "'+2 days', '-1 week', 'last month' or 'next year'."
    )


@cache
def _zone(name: str) -> zoneinfo.ZoneInfo | None:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


# -- contexts ------------------------------------------------------------------------------


@dataclass
class ValidationContext:
    """What checking a filter document needs, read once per request."""

    session: AsyncSession
    types: FilterRegistry
    contact_fields: FieldCatalog
    company_fields: FieldCatalog
    segment_ids: frozenset[int]


@dataclass(frozen=True)
class CompileContext:
    """What compiling needs: the moment, the default timezone, and the timezones in use."""

    now: datetime
    default_timezone: str = "UTC"
    timezones: Sequence[str] = ()

    @property
    def default_zone(self) -> zoneinfo.ZoneInfo:
        return _zone(self.default_timezone) or zoneinfo.ZoneInfo("UTC")

    def per_timezone(
        self, compute: Callable[[zoneinfo.ZoneInfo], Any], type_: Any
    ) -> ColumnElement[Any]:
        """A value that depends on the contact's timezone, as a bound or a CASE of bounds."""
        default = compute(self.default_zone)
        groups: dict[Any, list[str]] = {}
        for name in sorted(set(self.timezones)):
            zone = _zone(name)
            if zone is None:
                continue
            value = compute(zone)
            if value != default:
                groups.setdefault(value, []).append(name)
        if not groups:
            return literal(default, type_)
        return case(
            *[(Contact.timezone.in_(names), literal(v, type_)) for v, names in groups.items()],
            else_=literal(default, type_),
        )

    def local_today(self, zone: zoneinfo.ZoneInfo) -> date:
        return self.now.astimezone(zone).date()


@dataclass(frozen=True)
class Bound:
    """A checked condition, ready to compile."""

    type: FilterType
    operator: str
    value: Any
    pointer: str
    field: str | None = None
    spec: FieldSpec | None = None
    kind: Comparison | None = None
    needs_timezones: bool = False
    segment_refs: tuple[int, ...] = ()
    # The JSON form to store (values normalised).
    stored: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class BoundGroup:
    match: str
    items: tuple[Bound | BoundGroup, ...]

    def conditions(self) -> list[Bound]:
        found: list[Bound] = []
        for item in self.items:
            found.extend(item.conditions() if isinstance(item, BoundGroup) else [item])
        return found

    @property
    def needs_timezones(self) -> bool:
        return any(c.needs_timezones for c in self.conditions())

    @property
    def segment_refs(self) -> set[int]:
        return {ref for c in self.conditions() for ref in c.segment_refs}

    def stored(self) -> dict[str, Any]:
        return {
            "match": self.match,
            "conditions": [
                i.stored() if isinstance(i, BoundGroup) else dict(i.stored) for i in self.items
            ],
        }


# -- the registry --------------------------------------------------------------------------


class FilterType(ABC):
    key: str
    label: str
    # Where the condition's "field" comes from (see FilterTypeRead.field).
    field_source: Literal["none", "contact_core", "contact_custom", "company", "channel"] = "none"
    value_help: str = ""

    @abstractmethod
    def operators(self) -> Mapping[str, tuple[str, ...]]:
        """Operator keys by comparison kind ('*' when the type has no field)."""

    @abstractmethod
    async def bind(self, ctx: ValidationContext, condition: Condition, pointer: str) -> Bound:
        """Check the condition; raise ValidationFailed with pointers into it."""

    @abstractmethod
    def compile(self, ctx: CompileContext, bound: Bound) -> ColumnElement[bool]:
        """One SQL boolean over the ``contacts`` row."""

    def describe(self) -> FilterTypeRead:
        return FilterTypeRead(
            key=self.key,
            label=self.label,
            field=self.field_source,
            operators={
                kind: [
                    OperatorRead(key=o, label=OPERATORS[o].label, value=OPERATORS[o].value)
                    for o in ops
                ]
                for kind, ops in self.operators().items()
            },
            value=self.value_help,
        )


class FilterRegistry:
    """The filter types of one application, by key."""

    def __init__(self, types: Iterable[FilterType]) -> None:
        self._types: dict[str, FilterType] = {}
        for kind in types:
            if kind.key in self._types:
                raise ValueError(f"filter type {kind.key!r} is listed twice")
            self._types[kind.key] = kind

    def get(self, key: str) -> FilterType | None:
        return self._types.get(key)

    def __iter__(self) -> Iterator[FilterType]:
        return iter(self._types.values())

    def keys(self) -> list[str]:
        return sorted(self._types)


def _fail(pointer: str, detail: str, code: str = "invalid_value") -> ValidationFailed:
    return ValidationFailed(detail, [FieldError(pointer, detail, code)])


def _check_operator(
    condition: Condition, pointer: str, allowed: Sequence[str], what: str
) -> Operator:
    if condition.operator not in allowed:
        raise _fail(
            f"{pointer}/operator",
            f"Unknown operator {condition.operator!r} for {what}; use one of: "
            f"{', '.join(allowed)}.",
            "unknown_operator",
        )
    return OPERATORS[condition.operator]


def _shape(
    condition: Condition,
    pointer: str,
    operator: Operator,
    item: Callable[[Any], Any],
) -> Any:
    """Check the value's shape for the operator and coerce each item."""
    where = f"{pointer}/value"
    value = condition.value
    try:
        if operator.value == "none":
            if value not in (None, "", []):
                raise InvalidValue(f"The operator {operator.key!r} takes no value.")
            return None
        if operator.value == "single":
            if value is None or isinstance(value, list | dict):
                raise InvalidValue("Expected one value.")
            return item(value)
        if not isinstance(value, list):
            raise InvalidValue("Expected a list of values.")
        if operator.value == "pair":
            if len(value) != 2:
                raise InvalidValue("Expected two values: [from, to].")
        elif not 1 <= len(value) <= MAX_LIST_VALUES:
            raise InvalidValue(f"Expected 1 to {MAX_LIST_VALUES} values.")
        items = []
        for index, entry in enumerate(value):
            if entry is None or isinstance(entry, list | dict):
                raise _fail(f"{where}/{index}", "Expected one value.")
            try:
                items.append(item(entry))
            except InvalidValue as exc:
                raise _fail(f"{where}/{index}", str(exc)) from None
        return items
    except InvalidValue as exc:
        raise _fail(where, str(exc)) from None


def _stored(condition: Condition, alias: str | None, value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": condition.type}
    if alias is not None:
        out["field"] = alias
    out["operator"] = condition.operator
    if value is not None:
        out["value"] = value
    return out


# -- values of fields ----------------------------------------------------------------------


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
        if operator == "anniversary":
            return and_(expr.is_not(None), _anniversary(ctx, operand))
        if operator == "between":
            low, _ = _temporal_bounds(ctx, operand, value[0])
            _, high = _temporal_bounds(ctx, operand, value[1])
            return and_(expr >= low, expr < high)
        low, high = _temporal_bounds(ctx, operand, value)
        if operator == "=":
            return and_(expr >= low, expr < high)
        if operator == "!=":
            return or_(is_null, expr < low, expr >= high)
        if operator == ">":
            return and_(expr >= high)
        if operator == ">=":
            return and_(expr >= low)
        if operator == "<":
            return and_(expr < low)
        if operator == "<=":
            return and_(expr < high)
        raise AssertionError(operator)

    if text:
        lowered = func.lower(expr)
        if operator == "=":
            return lowered == _lower(value)
        if operator == "!=":
            return or_(is_null, lowered != _lower(value))
        if operator == "in":
            return lowered.in_([_lower(v) for v in value])
        if operator == "not_in":
            return or_(is_null, lowered.not_in([_lower(v) for v in value]))
        if operator == "contains":
            return expr.icontains(str(value), autoescape=True)
        if operator == "not_contains":
            return or_(is_null, not_(expr.icontains(str(value), autoescape=True)))
        if operator == "starts_with":
            return expr.istartswith(str(value), autoescape=True)
        if operator == "ends_with":
            return expr.iendswith(str(value), autoescape=True)
        if operator == "like":
            return expr.ilike(literal(value, String()))
        if operator == "regexp":
            return matches_pattern(expr, value)
        raise AssertionError(operator)

    if operator == "between":
        first, last = (literal(v) for v in sorted(value))
        return and_(expr >= first, expr <= last)
    if operator in ("in", "not_in"):
        listed = expr.in_(value)
        return listed if operator == "in" else or_(is_null, not_(listed))
    bound = literal(value)
    if operator == "=":
        return expr == bound
    if operator == "!=":
        return or_(is_null, expr != bound)
    if operator == ">":
        return expr > bound
    if operator == ">=":
        return expr >= bound
    if operator == "<":
        return expr < bound
    if operator == "<=":
        return expr <= bound
    raise AssertionError(operator)


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


# -- built-in types ------------------------------------------------------------------------


class _FieldFilter(FilterType):
    value_help = _FIELD_VALUE_HELP

    def operators(self) -> Mapping[str, tuple[str, ...]]:
        return _kinds_help()

    @abstractmethod
    def _spec(self, ctx: ValidationContext, alias: str) -> FieldSpec | None: ...

    @abstractmethod
    def _operand(self, spec: FieldSpec) -> Operand: ...

    async def bind(self, ctx: ValidationContext, condition: Condition, pointer: str) -> Bound:
        if condition.field is None:
            raise _fail(f"{pointer}/field", "Name the field (its alias).", "required")
        spec = self._spec(ctx, condition.field)
        if spec is None:
            raise _fail(f"{pointer}/field", f"Unknown field {condition.field!r}.", "unknown_field")
        kind = COMPARISON[spec.type]
        value, stored = bind_field_value(condition, pointer, kind, f"a {kind} field")
        return Bound(
            type=self,
            operator=condition.operator,
            value=value,
            pointer=pointer,
            field=spec.alias,
            spec=spec,
            kind=kind,
            needs_timezones=_needs_zones(kind, condition.operator, value),
            stored=_stored(condition, spec.alias, stored),
        )

    def compile(self, ctx: CompileContext, bound: Bound) -> ColumnElement[bool]:
        assert bound.spec is not None
        return field_predicate(ctx, self._operand(bound.spec), bound.operator, bound.value)


def _needs_zones(kind: Comparison | None, operator: str, value: Any) -> bool:
    if kind not in (Comparison.DATE, Comparison.DATETIME):
        return False
    if operator == "anniversary":
        return True
    values = value if isinstance(value, list) else [value]
    return any(isinstance(v, Relative | OnDay) for v in values)


class CoreFieldFilter(_FieldFilter):
    key = "field"
    label = "Contact field"
    field_source = "contact_core"
    _ALIASES = frozenset(f.alias for f in CORE_CONTACT_FIELDS)

    def _spec(self, ctx: ValidationContext, alias: str) -> FieldSpec | None:
        spec = ctx.contact_fields.get(alias)
        return spec if spec is not None and spec.is_core and alias in self._ALIASES else None

    def _operand(self, spec: FieldSpec) -> Operand:
        kind = COMPARISON[spec.type]
        return Operand(kind, getattr(Contact, spec.alias), _temporal_of(kind, column=True))


class CustomFieldFilter(_FieldFilter):
    key = "custom_field"
    label = "Custom contact field"
    field_source = "contact_custom"

    def _spec(self, ctx: ValidationContext, alias: str) -> FieldSpec | None:
        spec = ctx.contact_fields.get(alias)
        return spec if spec is not None and not spec.is_core else None

    def _operand(self, spec: FieldSpec) -> Operand:
        return _json_operand(Contact.fields, spec)


class CompanyFieldFilter(_FieldFilter):
    """A field of the contact's primary company: name, domain or a custom company field."""

    key = "company_field"
    label = "Primary company field"
    field_source = "company"
    _CORE = {
        "name": FieldSpec("name", "Name", FieldType.TEXT, is_core=True),
        "domain": FieldSpec("domain", "Domain", FieldType.TEXT, is_core=True),
    }

    def _spec(self, ctx: ValidationContext, alias: str) -> FieldSpec | None:
        if alias in self._CORE:
            return self._CORE[alias]
        spec = ctx.company_fields.get(alias)
        return spec if spec is not None and not spec.is_core else None

    def _primary(self, column: Any) -> Any:
        link = aliased(ContactCompany)
        company = aliased(Company)
        return (
            select(getattr(company, column))
            .select_from(link)
            .join(company, company.id == link.company_id)
            .where(link.contact_id == Contact.id, link.is_primary.is_(True))
            .order_by(link.company_id)
            .limit(1)
            .scalar_subquery()
        )

    def _operand(self, spec: FieldSpec) -> Operand:
        if spec.alias in self._CORE:
            return Operand(Comparison.TEXT, self._primary(spec.alias))
        return _json_operand(self._primary("fields"), spec)


class _ColumnNumberFilter(FilterType):
    value_help = "A number; between takes [from, to]; in / not_in take a list."

    def __init__(self, key: str, label: str, column: Any) -> None:
        self.key = key
        self.label = label
        self._column = column

    def operators(self) -> Mapping[str, tuple[str, ...]]:
        return {"*": (*_ORDER, "in", "not_in")}

    async def bind(self, ctx: ValidationContext, condition: Condition, pointer: str) -> Bound:
        operator = _check_operator(condition, pointer, self.operators()["*"], self.label)
        value = _shape(condition, pointer, operator, _int32_item)
        return Bound(
            type=self,
            operator=operator.key,
            value=value,
            pointer=pointer,
            kind=Comparison.NUMBER,
            stored=_stored(condition, None, value),
        )

    def compile(self, ctx: CompileContext, bound: Bound) -> ColumnElement[bool]:
        operand = Operand(Comparison.NUMBER, self._column)
        return field_predicate(ctx, operand, bound.operator, bound.value)


def _id_item(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 2**63:
        raise InvalidValue("Expected an id (a positive integer).")
    return value


class _ReferenceFilter(FilterType):
    """A nullable reference (stage, owner): in / not in a list of ids, empty, not empty."""

    value_help = "A list of ids for in / not_in."

    def __init__(self, key: str, label: str, column: Any) -> None:
        self.key = key
        self.label = label
        self._column = column

    def operators(self) -> Mapping[str, tuple[str, ...]]:
        return {"*": ("in", "not_in", "empty", "not_empty")}

    async def bind(self, ctx: ValidationContext, condition: Condition, pointer: str) -> Bound:
        operator = _check_operator(condition, pointer, self.operators()["*"], self.label)
        value = _shape(condition, pointer, operator, _id_item)
        return Bound(
            type=self,
            operator=operator.key,
            value=value,
            pointer=pointer,
            stored=_stored(condition, None, value),
        )

    def compile(self, ctx: CompileContext, bound: Bound) -> ColumnElement[bool]:
        operand = Operand(Comparison.NUMBER, self._column)
        return field_predicate(ctx, operand, bound.operator, bound.value)


class _DateColumnFilter(FilterType):
    value_help = _FIELD_VALUE_HELP

    def __init__(self, key: str, label: str, column: Any) -> None:
        self.key = key
        self.label = label
        self._column = column

    def operators(self) -> Mapping[str, tuple[str, ...]]:
        return {"*": KIND_OPERATORS[Comparison.DATETIME]}

    async def bind(self, ctx: ValidationContext, condition: Condition, pointer: str) -> Bound:
        value, stored = bind_field_value(condition, pointer, Comparison.DATETIME, self.label)
        return Bound(
            type=self,
            operator=condition.operator,
            value=value,
            pointer=pointer,
            kind=Comparison.DATETIME,
            needs_timezones=_needs_zones(Comparison.DATETIME, condition.operator, value),
            stored=_stored(condition, None, stored),
        )

    def compile(self, ctx: CompileContext, bound: Bound) -> ColumnElement[bool]:
        operand = Operand(Comparison.DATETIME, self._column, "column")
        return field_predicate(ctx, operand, bound.operator, bound.value)


def _tag_item(value: Any) -> str:
    text = _text_item(value).strip()
    if not text or len(text) > 100:
        raise InvalidValue("Expected a tag name (1 to 100 characters).")
    return text


class TagsFilter(FilterType):
    key = "tags"
    label = "Tags"
    value_help = "A list of tag names (case does not matter)."

    def operators(self) -> Mapping[str, tuple[str, ...]]:
        return {"*": ("has_any", "has_all", "has_none", "empty", "not_empty")}

    async def bind(self, ctx: ValidationContext, condition: Condition, pointer: str) -> Bound:
        operator = _check_operator(condition, pointer, self.operators()["*"], "tags")
        value = _shape(condition, pointer, operator, _tag_item)
        return Bound(
            type=self,
            operator=operator.key,
            value=value,
            pointer=pointer,
            stored=_stored(condition, None, value),
        )

    def compile(self, ctx: CompileContext, bound: Bound) -> ColumnElement[bool]:
        link = aliased(ContactTag)
        if bound.operator in ("empty", "not_empty"):
            any_tag = exists(select(link.tag_id).where(link.contact_id == Contact.id))
            return not_(any_tag) if bound.operator == "empty" else any_tag
        tag = aliased(Tag)
        keys = sorted({v.lower() for v in bound.value})
        tag_ids = select(tag.id).where(tag.key.in_(keys))
        if bound.operator == "has_all":
            held = (
                select(func.count())
                .select_from(link)
                .where(link.contact_id == Contact.id, link.tag_id.in_(tag_ids))
                .scalar_subquery()
            )
            return held == len(keys)
        has = exists(
            select(link.tag_id).where(link.contact_id == Contact.id, link.tag_id.in_(tag_ids))
        )
        return has if bound.operator == "has_any" else not_(has)


DNC_REASONS = ("unsubscribed", "bounced", "complaint", "manual")
_CHANNEL = re.compile(r"^[a-z][a-z0-9_]{0,19}$")


def _reason_item(value: Any) -> str:
    if value not in DNC_REASONS:
        raise InvalidValue(f"Use one of: {', '.join(DNC_REASONS)}.")
    return str(value)


class DncFilter(FilterType):
    key = "dnc"
    label = "Do Not Contact"
    field_source = "channel"
    value_help = (
        "field: the channel (email, sms, ...); value: optionally a list of reasons "
        f"({', '.join(DNC_REASONS)}); none means any reason."
    )

    def operators(self) -> Mapping[str, tuple[str, ...]]:
        return {"*": ("on", "not_on")}

    async def bind(self, ctx: ValidationContext, condition: Condition, pointer: str) -> Bound:
        if condition.field is None or not _CHANNEL.match(condition.field):
            raise _fail(
                f"{pointer}/field", "Name the channel, such as 'email' or 'sms'.", "invalid_field"
            )
        _check_operator(condition, pointer, self.operators()["*"], "Do Not Contact")
        reasons = None
        if condition.value not in (None, []):
            list_op = Operator(condition.operator, "", "list")
            reasons = _shape(condition, pointer, list_op, _reason_item)
        return Bound(
            type=self,
            operator=condition.operator,
            value=reasons,
            pointer=pointer,
            field=condition.field,
            stored=_stored(condition, condition.field, reasons),
        )

    def compile(self, ctx: CompileContext, bound: Bound) -> ColumnElement[bool]:
        dnc = aliased(DoNotContact)
        where = [dnc.contact_id == Contact.id, dnc.channel == literal(bound.field, String())]
        if bound.value:
            where.append(dnc.reason.in_(bound.value))
        listed = exists(select(dnc.channel).where(*where))
        return listed if bound.operator == "on" else not_(listed)


class SegmentFilter(FilterType):
    key = "segment"
    label = "Segment membership"
    value_help = "A list of segment ids: in any of them (in) or in none of them (not_in)."

    def operators(self) -> Mapping[str, tuple[str, ...]]:
        return {"*": ("in", "not_in")}

    async def bind(self, ctx: ValidationContext, condition: Condition, pointer: str) -> Bound:
        operator = _check_operator(condition, pointer, self.operators()["*"], "segments")
        value = _shape(condition, pointer, operator, _id_item)
        for index, segment_id in enumerate(value):
            if segment_id not in ctx.segment_ids:
                raise _fail(f"{pointer}/value/{index}", "Unknown segment.", "not_found")
        return Bound(
            type=self,
            operator=operator.key,
            value=value,
            pointer=pointer,
            segment_refs=tuple(value),
            stored=_stored(condition, None, value),
        )

    def compile(self, ctx: CompileContext, bound: Bound) -> ColumnElement[bool]:
        member = aliased(SegmentMember)
        held = exists(
            select(member.segment_id).where(
                member.contact_id == Contact.id,
                member.segment_id.in_(bound.value),
                member.manually_removed.is_(False),
            )
        )
        return held if bound.operator == "in" else not_(held)


BUILTIN_FILTER_TYPES: tuple[FilterType, ...] = (
    CoreFieldFilter(),
    CustomFieldFilter(),
    CompanyFieldFilter(),
    TagsFilter(),
    _ColumnNumberFilter("points", "Points", Contact.points),
    _ReferenceFilter("stage", "Stage", Contact.stage_id),
    _ReferenceFilter("owner", "Owner", Contact.owner_id),
    DncFilter(),
    SegmentFilter(),
    _DateColumnFilter("created", "Date created", Contact.created_at),
    _DateColumnFilter("last_active", "Date last active", Contact.last_active_at),
)


# -- whole documents -----------------------------------------------------------------------


async def bind_filters(
    ctx: ValidationContext, group: FilterGroup, *, pointer: str = "/filters"
) -> BoundGroup:
    """Check every condition; all problems are reported together."""
    errors: list[FieldError] = []
    bound = await _bind_group(ctx, group, pointer, errors)
    if errors:
        raise ValidationFailed("The segment filters are not valid.", errors)
    return bound


async def _bind_group(
    ctx: ValidationContext, group: FilterGroup, pointer: str, errors: list[FieldError]
) -> BoundGroup:
    items: list[Bound | BoundGroup] = []
    for index, item in enumerate(group.conditions):
        where = f"{pointer}/conditions/{index}"
        if isinstance(item, FilterGroup):
            items.append(await _bind_group(ctx, item, where, errors))
            continue
        kind = ctx.types.get(item.type)
        if kind is None:
            errors.append(
                FieldError(
                    f"{where}/type",
                    f"Unknown filter type {item.type!r}; GET /segment-filter-types lists them.",
                    "unknown_type",
                )
            )
            continue
        try:
            items.append(await kind.bind(ctx, item, where))
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    return BoundGroup(match=group.match, items=tuple(items))


def compile_filters(ctx: CompileContext, group: BoundGroup) -> ColumnElement[bool]:
    """The whole document as one SQL boolean. A document without conditions matches no one:
    such a segment holds only the contacts added by hand."""
    if not group.items:
        return false()
    return _compile_group(ctx, group)


def _compile_group(ctx: CompileContext, group: BoundGroup) -> ColumnElement[bool]:
    parts = [
        _compile_group(ctx, item) if isinstance(item, BoundGroup) else item.type.compile(ctx, item)
        for item in group.items
    ]
    if not parts:
        return true() if group.match == "all" else false()
    return and_(*parts) if group.match == "all" else or_(*parts)
