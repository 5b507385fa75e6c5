"""The built-in filter types: contact, custom and company fields, points, owner, stage,
dates, tags, do-not-contact and segment membership."""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    String,
    exists,
    func,
    literal,
    not_,
    select,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from trellis.db.models import (
    Company,
    Contact,
    ContactCompany,
    ContactTag,
    DoNotContact,
    SegmentMember,
    Tag,
)
from trellis.domains.fields.service import FieldSpec
from trellis.domains.fields.types import (
    COMPARISON,
    CORE_CONTACT_FIELDS,
    Comparison,
    FieldType,
    InvalidValue,
)
from trellis.domains.segments.field_values import (
    _FIELD_VALUE_HELP,
    Operand,
    _int32_item,
    _json_operand,
    _kinds_help,
    _temporal_of,
    _text_item,
    bind_field_value,
    field_predicate,
)
from trellis.domains.segments.filters import (
    _ORDER,
    KIND_OPERATORS,
    Bound,
    CompileContext,
    FilterType,
    OnDay,
    Operator,
    Relative,
    ValidationContext,
    _check_operator,
    _fail,
    _id_item,
    _shape,
    _stored,
)
from trellis.domains.segments.schemas import Condition


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
