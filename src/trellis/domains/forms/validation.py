"""Checking forms: a form document before it is saved (fields, options, mappings to contact
fields, actions and what they refer to), and each posted value against its field."""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from trellis.domains.emails.service import email_service
from trellis.domains.fields.service import FieldCatalog
from trellis.domains.fields.types import CORE_CONTACT_ALIASES, InvalidValue
from trellis.domains.forms.schemas import ACTION_CONFIGS, FieldDoc, FieldTypeRead
from trellis.domains.segments.service import segment_service
from trellis.domains.users.service import user_service
from trellis.errors import FieldError
from trellis.patterns import PatternError, fullmatch

DEFAULT_MAX_LENGTH = {"textarea": 10_000}
TEXT_MAX_LENGTH = 1000
EMAIL_RE = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
TRUE_VALUES = frozenset({"1", "on", "true", "yes", "y", "checked"})
OPTION_TYPES = frozenset({"select", "radio", "checkbox_group"})

FIELD_TYPES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("text", "Text", ("placeholder", "default", "min_length", "max_length", "pattern")),
    ("email", "Email", ("placeholder", "default")),
    ("textarea", "Long text", ("placeholder", "default", "min_length", "max_length", "pattern")),
    ("number", "Number", ("placeholder", "default", "min", "max")),
    ("date", "Date", ("default",)),
    ("select", "Select list", ("options", "default", "placeholder")),
    ("radio", "Radio buttons", ("options", "default")),
    ("checkbox_group", "Checkbox group", ("options", "default")),
    ("hidden", "Hidden", ("default",)),
    ("consent", "Consent checkbox", ("consent_text",)),
)
COMMON_ATTRIBUTES = ("label", "name", "contact_field", "required", "help")

# "Do these ids exist?" for a kind of entity an action refers to.
ExistingIds = Callable[[AsyncSession, Sequence[int]], Awaitable[set[int]]]
# An action's references, by kind: (pointer, id) pairs.
References = dict[str, list[tuple[str, int]]]


def pydantic_errors(exc: ValidationError, base: str) -> list[FieldError]:
    out = []
    for error in exc.errors():
        path = "/".join(str(p) for p in error["loc"])
        out.append(
            FieldError(f"{base}/{path}" if path else base, error["msg"], error.get("type", ""))
        )
    return out


def field_type_catalogue() -> list[FieldTypeRead]:
    """The field types a form offers, with the attributes each one takes."""
    return [
        FieldTypeRead(
            type=key,
            label=label,
            attributes=[*COMMON_ATTRIBUTES, *attributes],
            has_options=key in OPTION_TYPES,
            maps_to_contact=key != "consent",
        )
        for key, label, attributes in FIELD_TYPES
    ]


# -- the form document ------------------------------------------------------------------------


async def document_problems(
    session: AsyncSession,
    *,
    fields: Sequence[FieldDoc],
    actions: Sequence[Any],
    identify_by: str,
    catalog: FieldCatalog,
    campaigns: ExistingIds,
) -> tuple[list[FieldError], list[dict[str, Any]]]:
    """Every problem of a form document, and its actions as they are stored."""
    errors = field_problems(fields, catalog)
    spec = catalog.get(identify_by)
    if spec is None or not (spec.alias == "email" or spec.is_identifier):
        errors.append(
            FieldError(
                "/identify_by",
                "Identify contacts by email or by an identifying custom field.",
                "invalid_value",
            )
        )
    action_errors, clean_actions, references = action_problems(actions)
    errors += action_errors
    errors += await reference_problems(session, references, campaigns=campaigns)
    return errors, clean_actions


def field_problems(fields: Sequence[FieldDoc], catalog: FieldCatalog) -> list[FieldError]:
    errors: list[FieldError] = []
    seen: set[str] = set()
    mapped: set[str] = set()
    for index, item in enumerate(fields):
        base = f"/fields/{index}"
        if item.name in seen:
            errors.append(
                FieldError(f"{base}/name", f"The name {item.name!r} is used twice.", "taken")
            )
        seen.add(item.name)
        errors += _shape_problems(item, base)
        if item.contact_field:
            errors += _mapping_problems(item, base, catalog, mapped)
            mapped.add(item.contact_field)
    return errors


def _shape_problems(item: FieldDoc, base: str) -> list[FieldError]:
    """Options, consent text and validation bounds that fit the field's type."""
    errors: list[FieldError] = []
    if item.type in OPTION_TYPES and not item.options:
        errors.append(FieldError(f"{base}/options", "Give at least one option.", "required"))
    if item.type not in OPTION_TYPES and item.options:
        errors.append(FieldError(f"{base}/options", "Only lists take options.", "not_allowed"))
    values = [o.value for o in item.options]
    if len(set(values)) != len(values):
        errors.append(FieldError(f"{base}/options", "Option values must be unique.", "taken"))
    if item.type == "consent" and not item.consent_text:
        errors.append(
            FieldError(
                f"{base}/consent_text",
                "A consent checkbox needs the text the visitor agrees to.",
                "required",
            )
        )
    rules = item.validation
    if (
        rules.min_length is not None
        and rules.max_length is not None
        and rules.min_length > rules.max_length
    ):
        errors.append(FieldError(f"{base}/validation/min_length", "Greater than max_length."))
    if rules.min is not None and rules.max is not None and rules.min > rules.max:
        errors.append(FieldError(f"{base}/validation/min", "Greater than max."))
    return errors


def _mapping_problems(
    item: FieldDoc, base: str, catalog: FieldCatalog, mapped: set[str]
) -> list[FieldError]:
    """The contact field a form field fills: one that exists, once per form, never consent."""
    alias = item.contact_field or ""
    spec = catalog.get(alias)
    pointer = f"{base}/contact_field"
    if spec is None or (spec.is_core and alias not in CORE_CONTACT_ALIASES):
        return [FieldError(pointer, f"No contact field has the alias {alias!r}.", "not_found")]
    if item.type == "consent":
        return [
            FieldError(
                pointer,
                "A consent checkbox is kept with the submission, not in a field.",
                "not_allowed",
            )
        ]
    if alias in mapped:
        return [FieldError(pointer, f"Another field already fills {alias!r}.", "taken")]
    return []


def action_problems(
    actions: Sequence[Any],
) -> tuple[list[FieldError], list[dict[str, Any]], References]:
    """Each action's settings checked, as stored, and the entities they refer to."""
    errors: list[FieldError] = []
    clean: list[dict[str, Any]] = []
    references: References = {}
    for index, action in enumerate(actions):
        base = f"/actions/{index}/config"
        try:
            config = ACTION_CONFIGS[action.type].model_validate(action.config)
        except ValidationError as exc:
            errors.extend(pydantic_errors(exc, base))
            continue
        dumped = config.model_dump(mode="json")
        clean.append({"type": action.type, "config": dumped})
        if action.type == "tags.change" and not (dumped["add"] or dumped["remove"]):
            errors.append(FieldError(f"{base}/add", "Add or remove at least one tag."))
        for key, kind in (("segments", "segment"), ("campaigns", "campaign"), ("user_ids", "user")):
            for item_id in dumped.get(key, []):
                references.setdefault(kind, []).append((f"{base}/{key}", item_id))
        if "email_id" in dumped:
            references.setdefault("email", []).append((f"{base}/email_id", dumped["email_id"]))
    return errors, clean, references


async def reference_problems(
    session: AsyncSession, references: References, *, campaigns: ExistingIds
) -> list[FieldError]:
    lookups: dict[str, ExistingIds] = {
        "segment": segment_service.existing_ids,
        "campaign": campaigns,
        "user": user_service.existing_ids,
        "email": email_service.existing_ids,
    }
    errors: list[FieldError] = []
    for kind, items in references.items():
        known = await lookups[kind](session, sorted({i for _, i in items}))
        errors += [
            FieldError(pointer, f"No {kind} with id {item_id}.", "not_found")
            for pointer, item_id in items
            if item_id not in known
        ]
    return errors


# -- posted values ----------------------------------------------------------------------------


def check_value(item: Mapping[str, Any], given: list[str]) -> Any:
    """One field's posted value(s), checked and typed; None when empty."""
    kind = item["type"]
    rules = item.get("validation") or {}
    options = [o["value"] for o in item.get("options") or []]
    if kind == "checkbox_group":
        chosen = list(dict.fromkeys(v for v in given if v != ""))
        if len(chosen) > len(options) or any(v not in options for v in chosen):
            raise InvalidValue("Choose among the options given.")
        return chosen
    if kind == "consent":
        return bool(given) and given[0].strip().lower() in TRUE_VALUES
    if len(given) > 1:
        raise InvalidValue("Give one value.")
    raw = given[0] if given else ""
    text = raw.strip() if kind != "textarea" else raw.replace("\r\n", "\n").strip()
    if text == "":
        return None
    max_length = rules.get("max_length") or DEFAULT_MAX_LENGTH.get(kind, TEXT_MAX_LENGTH)
    if len(text) > max_length:
        raise InvalidValue(f"At most {max_length} characters.")
    if kind in ("select", "radio"):
        if text not in options:
            raise InvalidValue("Choose one of the options given.")
        return text
    typed = _TYPED.get(kind)
    return typed(text, rules) if typed else _text(text, rules)


def as_text(value: Any) -> Any:
    """A value as a core contact field (text) takes it."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(value)
    return value


def _email(text: str, rules: Mapping[str, Any]) -> str:
    if len(text) > 320 or not EMAIL_RE.match(text):
        raise InvalidValue("Enter a valid email address.")
    return text.lower()


def _number(text: str, rules: Mapping[str, Any]) -> int | float:
    try:
        number = float(text)
    except ValueError:
        raise InvalidValue("Enter a number.") from None
    if not math.isfinite(number) or abs(number) > 1e15:
        raise InvalidValue("Enter a number.")
    if rules.get("min") is not None and number < rules["min"]:
        raise InvalidValue(f"At least {rules['min']:g}.")
    if rules.get("max") is not None and number > rules["max"]:
        raise InvalidValue(f"At most {rules['max']:g}.")
    return int(number) if number.is_integer() and "." not in text else number


def _date(text: str, rules: Mapping[str, Any]) -> str:
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise InvalidValue("Enter a date as YYYY-MM-DD.") from None


def _text(text: str, rules: Mapping[str, Any]) -> str:
    if rules.get("min_length") is not None and len(text) < rules["min_length"]:
        raise InvalidValue(f"At least {rules['min_length']} characters.")
    pattern = rules.get("pattern")
    if pattern and not _matches(pattern, text):
        raise InvalidValue("The value does not have the expected format.")
    return text


_TYPED: dict[str, Callable[[str, Mapping[str, Any]], Any]] = {
    "email": _email,
    "number": _number,
    "date": _date,
}


def _matches(pattern: str, text: str) -> bool:
    try:
        return fullmatch(pattern, text)
    except PatternError:
        # Saving refuses such a pattern; one stored before checks nothing rather than refuse
        # every visitor.
        return True
