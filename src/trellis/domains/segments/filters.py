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

Built-in types are listed in :mod:`trellis.domains.segments.builtin_filters`; other domains
(behaviour filters: opened an email, visited a page, submitted a form) export theirs, and the
composition root (:mod:`trellis.bootstrap`) puts them all in one :class:`FilterRegistry`.
"""

from __future__ import annotations

import calendar
import dataclasses
import re
import zoneinfo
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any, Literal

from sqlalchemy import (
    and_,
    case,
    false,
    literal,
    or_,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from trellis.db.models import (
    Contact,
)
from trellis.domains.fields.service import FieldCatalog, FieldSpec
from trellis.domains.fields.types import (
    Comparison,
    InvalidValue,
)
from trellis.domains.segments.schemas import Condition, FilterGroup, FilterTypeRead, OperatorRead
from trellis.errors import FieldError, ValidationFailed

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


def _id_item(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 2**63:
        raise InvalidValue("Expected an id (a positive integer).")
    return value


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
