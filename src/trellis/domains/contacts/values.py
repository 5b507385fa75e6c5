"""A contact's input, checked and normalised once, for every path that writes contacts:
the API, batch upserts, imports and form submissions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from trellis.domains.contacts.schemas import ContactFields, ItemError
from trellis.domains.fields.service import FieldCatalog
from trellis.domains.fields.types import CORE_CONTACT_ALIASES, InvalidValue, coerce_core
from trellis.errors import json_pointer

CORE_COLUMNS = tuple(sorted(CORE_CONTACT_ALIASES))
REFERENCE_COLUMNS = ("owner_id", "stage_id")


# Why an upsert of an erased address fails.
ERASED = (
    "This person asked to be erased; they come back only by opting in again (a consent, or "
    "the suppression list's lift)."
)


@dataclass
class Prepared:
    """One contact's input, checked and normalised."""

    core: dict[str, Any] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)
    references: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    errors: list[ItemError] = field(default_factory=list)
    # The person opted in with this input (a form's consent box): an address erased on
    # request may come back.
    opted_in: bool = False


def prepare(item: ContactFields, catalog: FieldCatalog, *, pointer: str = "") -> Prepared:
    given = item.model_dump(exclude_unset=True)
    result = Prepared()
    for alias in CORE_COLUMNS:
        if alias in given:
            try:
                result.core[alias] = coerce_core(alias, given[alias])
            except InvalidValue as exc:
                result.errors.append(ItemError(pointer=f"{pointer}/{alias}", detail=str(exc)))
    for alias in REFERENCE_COLUMNS:
        if alias in given:
            result.references[alias] = given[alias]
    for alias, value in (given.get("fields") or {}).items():
        spec = catalog.get(alias)
        where = json_pointer(*[p for p in pointer.split("/") if p], "fields", alias)
        if spec is None or spec.is_core:
            result.errors.append(
                ItemError(
                    pointer=where,
                    detail="No custom field has this alias."
                    + (" Core fields go at the top level." if spec is not None else ""),
                    code="unknown_field",
                )
            )
            continue
        try:
            result.custom[alias] = spec.coerce(value)
        except InvalidValue as exc:
            result.errors.append(ItemError(pointer=where, detail=str(exc)))
    tags = given.get("tags")
    if tags:
        result.tags = clean_tags(tags)
    return result


def clean_tags(names: Sequence[str]) -> list[str]:
    seen: dict[str, str] = {}
    for name in names:
        cleaned = " ".join(name.split())
        if cleaned:
            seen.setdefault(cleaned.lower(), cleaned)
    return list(seen.values())


def is_anonymous(core: Mapping[str, Any], custom: Mapping[str, Any], catalog: FieldCatalog) -> bool:
    if core.get("email"):
        return False
    return not any(
        custom.get(spec.alias) not in (None, "") for spec in catalog.identifiers if not spec.is_core
    )


def merge_fields(current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(current)
    for alias, value in changes.items():
        if value is None:
            merged.pop(alias, None)
        else:
            merged[alias] = value
    return merged
