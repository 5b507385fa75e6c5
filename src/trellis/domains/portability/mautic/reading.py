"""What a Mautic export holds and how to read it: the record lists and their keys, Mautic's
vocabularies (field types, operators, units) mapped to ours, and small readers that take the
loosely typed values of its JSON as they come."""

from __future__ import annotations

import html
import re
import uuid as uuid_module
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

from trellis.domains.portability.manifest import Manifest

DATA_NAME = "entity_data.json"
ASSETS_PREFIX = "assets/"
EXPORTED_BY = "Mautic 7 campaign export"

_NAMESPACE = uuid_module.UUID("8d3f3c1e-5f7a-4c52-9a4e-6b0e3d1c2a71")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

# The keys Mautic's export uses for each list of records (and the spellings seen in its
# documentation and API): our name -> accepted keys.
RECORD_KEYS: dict[str, tuple[str, ...]] = {
    "campaign": ("campaign", "campaigns"),
    "event": ("campaign_event", "campaign_events", "event", "events"),
    "email": ("email", "emails"),
    "segment": ("lists", "lead_list", "leadlist", "segment", "segments"),
    "form": ("form", "forms"),
    "form_field": ("form_field", "form_fields", "field"),
    "form_action": ("form_action", "form_actions", "action"),
    "page": ("page", "pages"),
    "asset": ("asset", "assets"),
    "stage": ("stage", "stages"),
    "lead_field": ("lead_field", "lead_fields", "custom_field", "custom_fields"),
}
# Lists of records that have no counterpart here; each record gets a note.
UNSUPPORTED_RECORDS: dict[str, str] = {
    "dynamicContent": "Dynamic web content is not supported; the default content of email "
    "slots is kept in the email.",
    "dynamic_content": "Dynamic web content is not supported; the default content of email "
    "slots is kept in the email.",
    "pointGroup": "Point groups are not supported (contacts have one points score).",
    "point_group": "Point groups are not supported (contacts have one points score).",
    "focus": "Focus items are not supported.",
    "sms": "Text messages are not supported.",
    "message": "Marketing messages are not supported.",
    "notification": "Web and mobile notifications are not supported.",
    "category": "Categories are not supported; projects group entities here.",
}
KNOWN_KEYS = (
    {k for keys in RECORD_KEYS.values() for k in keys} | set(UNSUPPORTED_RECORDS) | {"dependencies"}
)

# Mautic's core contact fields that have another alias here; the rest keep their alias.
CORE_ALIASES: dict[str, str] = {
    "firstname": "first_name",
    "lastname": "last_name",
    "company": "company_name",
    "preferred_locale": "locale",
    "email": "email",
    "phone": "phone",
    "mobile": "mobile",
    "position": "position",
    "address1": "address1",
    "address2": "address2",
    "city": "city",
    "state": "state",
    "zipcode": "zipcode",
    "country": "country",
    "timezone": "timezone",
    "website": "website",
    "utm_source": "utm_source",
    "utm_medium": "utm_medium",
    "utm_campaign": "utm_campaign",
    "utm_content": "utm_content",
    "utm_term": "utm_term",
}
OUR_CORE = frozenset(CORE_ALIASES.values())
_ALIAS = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

# Mautic field (and filter) types -> our custom field types. Select-like fields become text:
# the file does not carry their options, and text compares the same values.
FIELD_TYPES: dict[str, str] = {
    "text": "text",
    "textarea": "long_text",
    "html": "long_text",
    "email": "email",
    "number": "number",
    "boolean": "boolean",
    "date": "date",
    "datetime": "datetime",
    "tel": "phone",
    "url": "url",
    "timezone": "timezone",
    "locale": "locale",
}

# Operators of Mautic's segment filters and field-value conditions -> ours.
OPERATORS: dict[str, str] = {
    "=": "=",
    "eq": "=",
    "!=": "!=",
    "neq": "!=",
    "gt": ">",
    "gte": ">=",
    "lt": "<",
    "lte": "<=",
    "empty": "empty",
    "!empty": "not_empty",
    "in": "in",
    "!in": "not_in",
    "regexp": "regexp",
    "startsWith": "starts_with",
    "endsWith": "ends_with",
    "contains": "contains",
    "between": "between",
}
POINTS_OPERATORS = {"=": "=", "!=": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}

TIMING_UNITS = {"i": "minute", "h": "hour", "d": "day", "m": "month", "y": "year"}
REACTIVATION = {"count_all_time", "restart_on_publish", "count_only_while_published"}
DNC_REASONS = {1: "unsubscribed", 2: "bounced", 3: "manual"}

# Keys Mautic stores in an event's properties besides its settings (the submitted builder form).
_CRUFT = {
    "_token",
    "buttons",
    "canvasSettings",
    "anchor",
    "anchorEventType",
    "campaignId",
    "eventType",
    "type",
    "name",
    "description",
    "triggerMode",
    "triggerDate",
    "triggerInterval",
    "triggerIntervalUnit",
    "triggerHour",
    "triggerRestrictedStartHour",
    "triggerRestrictedStopHour",
    "triggerRestrictedDaysOfWeek",
    "triggerWindow",
    "settings",
}


@dataclass(frozen=True)
class Note:
    """Something of the Mautic file that was not carried over, and why."""

    entity: str
    name: str
    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {
            "entity": self.entity,
            "name": self.name,
            "path": self.path,
            "message": self.message,
        }


@dataclass
class Translation:
    manifest: Manifest
    files: dict[str, bytes]
    notes: list[Note]
    # Pointer of each manifest entity ("/entities/email/0") -> its Mautic record's pointer.
    origins: dict[str, str] = field(default_factory=dict)


class Untranslatable(Exception):
    """A step (or filter condition, form action) with no equivalent here."""

    def __init__(self, message: str, where: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.where = where


def _root(document: Any) -> Any:
    if isinstance(document, list) and len(document) == 1:
        return document[0]
    return document


def is_mautic_export(document: Any) -> bool:
    """Whether a parsed ``entity_data.json`` (or a bare JSON upload) is a Mautic campaign
    export: an object (or a list of one object) with a list of campaigns."""
    root = _root(document)
    if not isinstance(root, dict) or "format_version" in root:
        return False
    return any(isinstance(root.get(key), list) for key in RECORD_KEYS["campaign"])


# -- small readers -------------------------------------------------------------------------------


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d{1,18}", value.strip()):
        return int(value.strip())
    if isinstance(value, dict) and "id" in value:
        return _int(value["id"])
    return None


def _text(value: Any, limit: int | None = None) -> str:
    if value is None or isinstance(value, bool):
        return ""
    text = str(value) if isinstance(value, int | float | str) else ""
    return text[:limit] if limit else text


def _strip_tags(value: Any, limit: int) -> str:
    text = re.sub(r"<[^>]*>", "", _text(value))
    return html.unescape(text).strip()[:limit]


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _ids(value: Any) -> list[int] | None:
    """A list of ids (Mautic writes single ids, lists, and lists of {id: ...})."""
    if value is None or value == "":
        return []
    items = value if isinstance(value, list) else [value]
    found = [_int(item) for item in items]
    if any(item is None for item in found):
        return None
    return [item for item in found if item is not None]


def _strings(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    return [str(item).strip() for item in items if str(item).strip()]


def _slug(value: Any, fallback: str) -> str | None:
    text = re.sub(r"[^a-z0-9]+", "-", _text(value).lower()).strip("-")[:100].strip("-")
    return text or (fallback or None)


def _form_alias(value: Any, name: str) -> str | None:
    slug = _slug(value, "") or _slug(name, "") or ""
    return slug[:60].strip("-") or None


def _segment_alias(value: Any) -> str | None:
    text = re.sub(r"[^a-z0-9_-]+", "-", _text(value).lower()).strip("-_")[:100]
    return text if re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,99}", text) else None


def _input_name(value: Any) -> str:
    text = re.sub(r"[^a-z0-9_]+", "_", _text(value).lower()).strip("_")[:60]
    if not text or not text[0].isalpha():
        text = ("f_" + text)[:60]
    return text


def _hour(value: Any) -> str | None:
    if value in (None, ""):
        return None
    text = _text(value).strip()
    match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::\d{2})?", text) or re.search(
        r"[T ](\d{1,2}):(\d{2})", text
    )
    if not match:
        raise ValueError(text)
    return time(int(match.group(1)), int(match.group(2))).isoformat()


def _when(value: Any) -> str:
    """A Mautic date and time (``Y-m-d H:i:s``, UTC, or ISO 8601) as ISO 8601 UTC."""
    text = _text(value).strip().replace(" ", "T", 1)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.isoformat()


def _language(value: Any) -> str:
    text = _text(value).replace("_", "-").strip()
    return text if re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", text) else "en"


_TOKEN = re.compile(r"\{(contactfield|leadfield)=([A-Za-z0-9_]+)")


def _tokens(text: str) -> str:
    """Mautic's contact-field tokens, with our aliases for its core fields."""

    def swap(match: re.Match[str]) -> str:
        alias = match.group(2).lower()
        return "{contactfield=" + CORE_ALIASES.get(alias, alias)

    return _TOKEN.sub(swap, text)
