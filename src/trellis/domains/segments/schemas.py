"""Segments: the filter document, and the request and response models of the API.

A filter document is a group ``{"match": "all"|"any", "conditions": [...]}`` whose items are
conditions ``{"type", "field"?, "operator", "value"?}`` or nested groups of the same shape.
:func:`parse_filters` checks the shape and reports each problem with a JSON pointer into the
request (``/filters/conditions/2/value``); what a condition means (its field, operator and
value) is checked by its filter type in ``filters.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from trellis.domains.projects.schemas import ProjectIds, ProjectRef
from trellis.errors import FieldError, ValidationFailed, json_pointer
from trellis.schemas import EntityId, InputModel

MAX_DEPTH = 5
MAX_CONDITIONS = 100
MAX_MEMBERS_PER_REQUEST = 1000

SegmentName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
SegmentAlias = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,99}$", min_length=1, max_length=100)
]
Description = Annotated[str, StringConstraints(max_length=5000)]


class Condition(InputModel):
    """One test on a contact; ``type`` names a registered filter type."""

    type: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    field: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    operator: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    value: Any = None


class FilterGroup(InputModel):
    """Conditions and nested groups joined by AND (``all``) or OR (``any``)."""

    match: Literal["all", "any"] = "all"
    conditions: list[Condition | FilterGroup] = Field(default_factory=list)


EMPTY_FILTERS: dict[str, Any] = {"match": "all", "conditions": []}

_FILTERS_DESCRIPTION = (
    'A group: {"match": "all"|"any", "conditions": [...]}, each item a condition '
    '{"type", "field"?, "operator", "value"?} or a nested group of the same shape '
    f"(at most {MAX_DEPTH} levels and {MAX_CONDITIONS} conditions). "
    "GET /segment-filter-types lists the types and their operators."
)
FilterDocument = Annotated[
    dict[str, Any],
    Field(
        description=_FILTERS_DESCRIPTION,
        json_schema_extra={"example": {"match": "all", "conditions": []}},
    ),
]

_PYDANTIC_MESSAGES = {"extra_forbidden": "Unknown field.", "missing": "This field is required."}


def parse_filters(raw: Any, *, pointer: str = "/filters") -> FilterGroup:
    """Check a filter document's shape; every problem becomes a FieldError at its pointer."""
    errors: list[FieldError] = []
    counter = [0]
    group = _parse_group(raw, pointer, 1, counter, errors)
    if errors or group is None:
        raise ValidationFailed("The segment filters are not valid.", errors)
    return group


def _split(pointer: str) -> list[str]:
    return [p for p in pointer.split("/") if p]


def _pydantic_errors(exc: ValidationError, pointer: str, errors: list[FieldError]) -> None:
    for err in exc.errors():
        kind = err.get("type", "invalid")
        message = _PYDANTIC_MESSAGES.get(kind) or str(err.get("msg", "Invalid value."))
        where = json_pointer(*_split(pointer), *[str(p) for p in err.get("loc", ())])
        errors.append(FieldError(where, message, kind))


def _parse_group(
    raw: Any, pointer: str, depth: int, counter: list[int], errors: list[FieldError]
) -> FilterGroup | None:
    if not isinstance(raw, dict):
        errors.append(FieldError(pointer, "Expected a group object.", "invalid_type"))
        return None
    if depth > MAX_DEPTH:
        errors.append(
            FieldError(pointer, f"Groups nest at most {MAX_DEPTH} levels deep.", "too_deep")
        )
        return None
    unknown = sorted(set(raw) - {"match", "conditions"})
    for key in unknown:
        errors.append(FieldError(f"{pointer}/{key}", "Unknown field.", "extra_forbidden"))
    match = raw.get("match", "all")
    if match not in ("all", "any"):
        errors.append(FieldError(f"{pointer}/match", "Use 'all' or 'any'.", "invalid_value"))
    items = raw.get("conditions", [])
    if not isinstance(items, list):
        errors.append(FieldError(f"{pointer}/conditions", "Expected a list.", "invalid_type"))
        return None
    if depth > 1 and not items:
        errors.append(
            FieldError(f"{pointer}/conditions", "A nested group needs a condition.", "empty")
        )
    parsed: list[Condition | FilterGroup] = []
    for index, item in enumerate(items):
        where = f"{pointer}/conditions/{index}"
        if isinstance(item, dict) and "conditions" in item:
            group = _parse_group(item, where, depth + 1, counter, errors)
            if group is not None:
                parsed.append(group)
            continue
        counter[0] += 1
        if counter[0] > MAX_CONDITIONS:
            errors.append(FieldError(where, f"At most {MAX_CONDITIONS} conditions.", "too_many"))
            return None
        if not isinstance(item, dict):
            errors.append(FieldError(where, "Expected a condition object.", "invalid_type"))
            continue
        try:
            parsed.append(Condition.model_validate(item))
        except ValidationError as exc:
            _pydantic_errors(exc, where, errors)
    if errors:
        return None
    return FilterGroup(match=match, conditions=parsed)


# -- segments -------------------------------------------------------------------------------


class SegmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    alias: str
    description: str
    is_public: bool
    is_published: bool
    filters: dict[str, Any]
    member_count: int
    last_built_at: datetime | None
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime
    version: int
    projects: list[ProjectRef] = []


class SegmentCreate(InputModel):
    name: SegmentName
    alias: SegmentAlias | None = Field(
        default=None, description="Derived from the name when absent; unique."
    )
    description: Description = ""
    is_public: bool = True
    is_published: bool = True
    filters: FilterDocument = Field(default_factory=lambda: dict(EMPTY_FILTERS))
    projects: ProjectIds = Field(default_factory=list)


class SegmentUpdate(InputModel):
    name: SegmentName | None = None
    alias: SegmentAlias | None = None
    description: Description | None = None
    is_public: bool | None = None
    is_published: bool | None = None
    filters: FilterDocument | None = None
    projects: ProjectIds | None = None


class FilterCount(InputModel):
    filters: FilterDocument


class CountRead(BaseModel):
    count: int


class MemberIds(InputModel):
    contact_ids: Annotated[list[EntityId], Field(min_length=1, max_length=MAX_MEMBERS_PER_REQUEST)]


class MembershipResult(BaseModel):
    changed: int = Field(description="Contacts whose membership this request changed.")
    unchanged: int
    not_found: list[int] = Field(description="Ids that name no contact.")
    member_count: int


class MemberRead(BaseModel):
    contact_id: int
    email: str | None
    first_name: str | None
    last_name: str | None
    added_at: datetime
    manually_added: bool


class ContactSegmentRead(BaseModel):
    id: int
    name: str
    alias: str
    is_public: bool
    is_published: bool
    added_at: datetime
    manually_added: bool


class RebuildQueued(BaseModel):
    segment_id: int
    status: Literal["queued"] = "queued"


# -- the filter-type catalogue, for the UI's filter builder ---------------------------------


class OperatorRead(BaseModel):
    key: str
    label: str
    value: Literal["none", "single", "list", "pair"]


class FilterTypeRead(BaseModel):
    key: str
    label: str
    field: Literal["none", "contact_core", "contact_custom", "company", "channel"] = Field(
        description="Where the condition's 'field' comes from: nothing, the core or custom "
        "contact fields (GET /fields), company fields, or a DNC channel name."
    )
    operators: dict[str, list[OperatorRead]] = Field(
        description="Operators by comparison kind of the field (text, number, date, datetime, "
        "boolean, list); types without a field use the kind '*'."
    )
    value: str = Field(description="What values look like.")


FilterGroup.model_rebuild()
