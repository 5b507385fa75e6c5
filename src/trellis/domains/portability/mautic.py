"""Import from Mautic 7: its campaign export (``entity_data.json`` and an ``assets`` folder)
translated into our manifest, which then goes through the same analysis and apply as our own
export files.

Pure functions, no database: :func:`translate` reads the Mautic document and returns the
manifest, the asset files (keyed as our ``files/`` members) and the translation report, a list
of notes ``{entity, name, path, message}`` naming everything that could not be carried over.
Paths are JSON pointers into ``entity_data.json``.

The rule for steps (docs/portability.md, "Importing from Mautic"): a step whose type or settings
have no equivalent here is dropped with a note when nothing hangs below it (a leaf); when other
steps hang below it, dropping it would cut the journey, so the import is refused (422) with the
list of those steps. No step is ever invented in place of one that cannot be translated.

Uuids are made deterministically from Mautic's uuids (or, for records without one, from the kind
and the Mautic id), so that importing the same file again finds the same entities.
"""

from __future__ import annotations

import html
import json
import re
import uuid as uuid_module
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

from pydantic import BaseModel, ValidationError

from trellis import json_limits
from trellis.domains.campaigns.schemas import TimingDoc
from trellis.domains.portability.manifest import FORMAT_VERSION, Manifest
from trellis.errors import FieldError, ValidationFailed, json_pointer

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


# -- the translator ------------------------------------------------------------------------------


@dataclass
class _Record:
    kind: str
    index: int
    pointer: str
    data: dict[str, Any]
    id: int
    uuid: str

    @property
    def name(self) -> str:
        for key in ("name", "title", "label", "alias"):
            if self.data.get(key):
                return _text(self.data[key])[:200]
        return f"{self.kind} {self.id}"


@dataclass
class _Event:
    record: _Record
    type: str
    kind: str  # action, decision, condition
    props: dict[str, Any]
    parent: int | None
    path: str | None
    key: str
    translated: tuple[str, dict[str, Any]] | None = None
    problem: Untranslatable | None = None


class _Translator:
    def __init__(
        self,
        document: Any,
        asset_files: Mapping[str, bytes],
        references: Callable[[str], dict[str, str] | None],
        normalise: Callable[[str, dict[str, Any]], dict[str, Any]],
    ) -> None:
        self.base = "/0" if isinstance(document, list) else ""
        self.root: dict[str, Any] = _root(document)
        self.asset_files = asset_files
        self.references = references
        self.normalise = normalise
        self.notes: list[Note] = []
        self.errors: list[FieldError] = []
        self.records: dict[str, list[_Record]] = {}
        self.by_id: dict[str, dict[int, _Record]] = {}
        self.fields: dict[str, tuple[str, str]] = {}  # our alias -> (type, label)
        self.entities: dict[str, list[dict[str, Any]]] = {}
        self.origins: dict[str, str] = {}
        self.files: dict[str, bytes] = {}
        self.by_alias: dict[str, _Record] = {}

    # -- plumbing ------------------------------------------------------------------------

    def error(self, pointer: str, detail: str, code: str = "invalid") -> None:
        self.errors.append(FieldError(pointer, detail, code, parameter="file"))

    def note(self, record: _Record, where: str, message: str) -> None:
        entity = record.pointer.split("/")[-2] if record.pointer.count("/") >= 2 else record.kind
        self.notes.append(Note(entity, record.name, record.pointer + where, message))

    def fail_if_errors(self) -> None:
        if self.errors:
            raise ValidationFailed(
                "The Mautic export cannot be read; see errors (pointers into entity_data.json).",
                self.errors,
            )

    def read_records(self) -> None:
        for key, value in self.root.items():
            if key in KNOWN_KEYS or value in (None, [], {}):
                continue
            self.notes.append(
                Note(
                    key,
                    key,
                    json_pointer(key) if not self.base else self.base + "/" + key,
                    "This part of the Mautic export has no counterpart here; it was skipped.",
                )
            )
        for kind, keys in RECORD_KEYS.items():
            found = [k for k in keys if k in self.root and self.root[k] not in (None, [], {})]
            items: list[_Record] = []
            for key in found:
                raw = self.root[key]
                pointer = f"{self.base}/{key}"
                if isinstance(raw, dict):
                    # Keyed by id, as Mautic's API lists are.
                    raw = list(raw.values())
                if not isinstance(raw, list):
                    self.error(pointer, "Expected a list of records.", "invalid_type")
                    continue
                for index, item in enumerate(raw):
                    at = f"{pointer}/{index}"
                    if not isinstance(item, dict):
                        self.error(at, "Expected a record (an object).", "invalid_type")
                        continue
                    id_ = _int(item.get("id"))
                    if id_ is None:
                        self.error(f"{at}/id", "Every record needs a numeric id.", "missing")
                        continue
                    raw_uuid = item.get("uuid")
                    if isinstance(raw_uuid, str) and _UUID.match(raw_uuid):
                        made = raw_uuid.lower()
                    else:
                        made = str(uuid_module.uuid5(_NAMESPACE, f"mautic:{kind}:{id_}"))
                    items.append(_Record(kind, index, at, item, id_, made))
            self.records[kind] = items
            self.by_id[kind] = {r.id: r for r in items}
        for key, message in UNSUPPORTED_RECORDS.items():
            raw = self.root.get(key)
            if isinstance(raw, list):
                for index, item in enumerate(raw):
                    name = _text(item.get("name") if isinstance(item, dict) else "") or key
                    self.notes.append(Note(key, name, f"{self.base}/{key}/{index}", message))
        if not self.records["campaign"]:
            self.error(f"{self.base}/campaign", "The export holds no campaign.", "missing")

    def ref(self, kind: str, value: Any, pointer: str) -> str | None:
        """The uuid of a referenced record; a reference to a record missing from the file is
        an error (the import is refused)."""
        id_ = _int(value)
        record = self.by_id.get(kind, {}).get(id_) if id_ is not None else None
        if record is None:
            self.error(
                pointer,
                f"The {kind} {value!r} is referenced here but is not in the file.",
                "missing_reference",
            )
            return None
        return record.uuid

    def add(self, kind: str, record: _Record, name: str, data: dict[str, Any]) -> None:
        listed = self.entities.setdefault(kind, [])
        self.origins[json_pointer("entities", kind, len(listed))] = record.pointer
        listed.append({"uuid": record.uuid, "name": name, "data": data})

    def decoded(self, record: _Record, key: str, expected: str) -> tuple[bool, Any]:
        """A column Mautic may hold as JSON text, decoded: (False, None) once the error is
        recorded."""
        raw = record.data.get(key)
        if isinstance(raw, str) and raw.strip():
            try:
                return True, json_limits.loads(raw)
            except json.JSONDecodeError:
                self.error(f"{record.pointer}/{key}", f"Expected {expected}.")
                return False, None
        return True, raw

    def props(self, record: _Record, key: str = "properties") -> dict[str, Any]:
        ok, raw = self.decoded(record, key, "an object (or its JSON)")
        if not ok or raw in (None, "", []):
            return {}
        if not isinstance(raw, dict):
            self.error(f"{record.pointer}/{key}", "Expected an object.", "invalid_type")
            return {}
        inner = raw.get("properties")
        if isinstance(inner, dict) and any(k in raw for k in ("_token", "anchor", "type")):
            # The builder stored the whole submitted form; the settings are nested.
            raw = inner
        return {k: v for k, v in raw.items() if k not in _CRUFT}

    def use_field(self, mautic_alias: str, mautic_type: str | None = None) -> str | None:
        """Our alias for a Mautic contact field, noting custom fields to create."""
        alias = mautic_alias.strip().lower()
        if alias in CORE_ALIASES:
            return CORE_ALIASES[alias]
        if not _ALIAS.match(alias) or alias in OUR_CORE:
            return None
        declared = self.by_alias.get(alias)
        if declared is not None:
            type_ = FIELD_TYPES.get(_text(declared.data.get("type")), "text")
            label = _text(declared.data.get("label"), 200) or alias
        else:
            type_ = FIELD_TYPES.get(mautic_type or "", "text")
            label = alias.replace("_", " ").capitalize()
        self.fields.setdefault(alias, (type_, label))
        return alias

    # -- the entities ------------------------------------------------------------------

    def run(self) -> None:
        self.read_records()
        self.fail_if_errors()
        self.by_alias = {
            _text(r.data.get("alias")).lower(): r
            for r in self.records["lead_field"]
            if _text(r.data.get("object") or "lead") == "lead"
        }
        for record in self.records["stage"]:
            self.add(
                "stage",
                record,
                record.name,
                {
                    "name": record.name,
                    "description": _strip_tags(record.data.get("description"), 2000),
                    "position": None,
                },
            )
        for record in self.records["email"]:
            self.email(record)
        for record in self.records["page"]:
            self.page(record)
        for record in self.records["form"]:
            self.form(record)
        for record in self.records["asset"]:
            self.asset(record)
        for record in self.records["segment"]:
            self.segment(record)
        self.fail_if_errors()
        sources = self.sources()
        for record in self.records["campaign"]:
            self.campaign(record, sources.get(record.id, []))
        self.fail_if_errors()
        for alias, (type_, label) in sorted(self.fields.items()):
            holder = self.by_alias.get(alias) or _Record(
                "lead_field",
                0,
                "",
                {},
                0,
                str(uuid_module.uuid5(_NAMESPACE, f"mautic:lead_field:{alias}")),
            )
            self.add(
                "custom_field",
                holder,
                alias,
                {
                    "object": "contact",
                    "alias": alias,
                    "label": label,
                    "type": type_,
                    "group": "custom",
                    "default_value": None,
                    "required": False,
                    "is_identifier": False,
                    "options": [],
                    "position": 0,
                },
            )

    def email(self, record: _Record) -> None:
        data = record.data
        body = _text(data.get("custom_html"))
        if not body.strip():
            self.error(
                f"{record.pointer}/custom_html",
                "The email has no HTML (custom_html): an email built only from theme slots "
                "cannot be translated.",
                "missing",
            )
            return
        body = self.dynamic_content(record, body)
        text = _text(data.get("plain_text")).strip()
        utm = _dict(data.get("utm_tags"))
        headers = _dict(data.get("headers"))
        clean_headers = []
        for name, value in headers.items():
            if re.fullmatch(r"[A-Za-z0-9-]{1,76}", str(name)) and "\n" not in _text(value):
                clean_headers.append({"name": str(name), "value": _text(value, 998)})
            else:
                self.note(record, "/headers", f"The header {name!r} is not valid here; dropped.")
        if data.get("bcc_address"):
            self.note(record, "/bcc_address", "A BCC address on every email is not supported.")
        for key in ("unsubscribeform_id", "preference_center_id"):
            if data.get(key):
                self.note(
                    record,
                    f"/{key}",
                    "A custom unsubscribe form or preference centre is not supported; the "
                    "instance's own pages are used.",
                )
        email_type = _text(data.get("email_type")) or "template"
        if email_type == "list":
            self.note(
                record,
                "/email_type",
                "A segment (list) email becomes a broadcast email; its segments and schedule "
                "are not carried over (set them on a broadcast).",
            )
        self.add(
            "email",
            record,
            record.name,
            {
                "name": record.name,
                "kind": "broadcast" if email_type == "list" else "template",
                "subject": _tokens(_text(data.get("subject"), 998)) or record.name,
                "preheader": _text(data.get("preheader"), 500),
                "from_name": _text(data.get("from_name"), 200),
                "from_address": _text(data.get("from_address"), 320),
                "reply_to": _text(data.get("reply_to_address"), 320),
                "headers": clean_headers,
                "body_format": "html",
                "body": _tokens(body),
                "text_body": _tokens(text) if text else None,
                "language": _language(data.get("lang") or data.get("language")),
                "utm": {
                    "source": _text(utm.get("utmSource"), 200),
                    "medium": _text(utm.get("utmMedium"), 200),
                    "campaign": _text(utm.get("utmCampaign"), 200),
                    "content": _text(utm.get("utmContent"), 200),
                },
                "is_published": _truthy(data.get("is_published", True)),
                "projects": [],
            },
        )

    def dynamic_content(self, record: _Record, body: str) -> str:
        """Mautic's dynamic-content slots: the default content stays, the variants go."""
        slots = record.data.get("dynamic_content")
        defaults: dict[str, str] = {}
        if isinstance(slots, list):
            for slot in slots:
                if isinstance(slot, dict) and slot.get("tokenName"):
                    defaults[_text(slot["tokenName"])] = _text(slot.get("content"))
        found = re.findall(r'\{dynamiccontent="([^"]*)"\}', body)
        for token in found:
            self.note(
                record,
                "/custom_html",
                f"Dynamic content {token!r}: its variants by contact are not supported; the "
                "default content is kept.",
            )
            body = body.replace(f'{{dynamiccontent="{token}"}}', defaults.get(token, ""))
        return body

    def page(self, record: _Record) -> None:
        data = record.data
        body = _text(data.get("custom_html"))
        if not body.strip():
            self.note(record, "/custom_html", "The page has no HTML (theme-built); it is empty.")
        for key in ("head_script", "footer_script"):
            if data.get(key):
                self.note(record, f"/{key}", "Page scripts are not carried over.")
        title = _text(data.get("title"), 200) or record.name
        self.add(
            "page",
            record,
            title,
            {
                "name": title,
                "title": title,
                "slug": _slug(data.get("alias"), _slug(title, "") or ""),
                "language": _language(data.get("lang")),
                "meta_description": _text(data.get("meta_description"), 500),
                "html": _tokens(body),
                "css": "",
                "is_published": _truthy(data.get("is_published", True)),
                "projects": [],
            },
        )

    def asset(self, record: _Record) -> None:
        import hashlib

        data = record.data
        if _text(data.get("storage_location") or "local") != "local":
            self.error(
                f"{record.pointer}/storage_location",
                "Remote assets cannot be imported: the file is not in the export.",
                "unsupported",
            )
            return
        stored = _text(data.get("path")) or _text(data.get("original_file_name"))
        candidates = [stored, _text(data.get("original_file_name"))]
        content = next((self.asset_files[c] for c in candidates if c in self.asset_files), None)
        if content is None:
            self.error(
                f"{record.pointer}/path",
                f"The file assets/{stored} is not in the archive.",
                "missing_file",
            )
            return
        title = _text(data.get("title"), 200) or record.name
        self.files[record.uuid] = content
        self.add(
            "asset",
            record,
            title,
            {
                "name": title,
                "description": _strip_tags(data.get("description"), 5000),
                "slug": _slug(data.get("alias"), _slug(title, "") or ""),
                "is_published": _truthy(data.get("is_published", True)),
                "gate_form_id": None,
                "projects": [],
                "filename": (_text(data.get("original_file_name")) or stored)[:255],
                "file": record.uuid,
                "sha256": hashlib.sha256(content).hexdigest(),
            },
        )

    # -- forms -------------------------------------------------------------------------

    FORM_FIELD_TYPES = {
        "text": "text",
        "email": "email",
        "textarea": "textarea",
        "number": "number",
        "date": "date",
        "select": "select",
        "radiogrp": "radio",
        "checkboxgrp": "checkbox_group",
        "hidden": "hidden",
        "tel": "text",
        "url": "text",
        "country": "text",
    }

    def form(self, record: _Record) -> None:
        data = record.data
        fields = sorted(
            (
                r
                for r in self.records["form_field"]
                if _int(r.data.get("form") or r.data.get("form_id")) == record.id
            ),
            key=lambda r: (_int(r.data.get("field_order") or r.data.get("order")) or 0, r.id),
        )
        docs: list[dict[str, Any]] = []
        names: set[str] = set()
        for item in fields:
            doc = self.form_field(item, names)
            if doc is not None:
                docs.append(doc)
        actions: list[dict[str, Any]] = []
        for item in sorted(
            (
                r
                for r in self.records["form_action"]
                if _int(r.data.get("form") or r.data.get("form_id")) == record.id
            ),
            key=lambda r: (_int(r.data.get("action_order") or r.data.get("order")) or 0, r.id),
        ):
            try:
                actions.extend(self.form_action(item))
            except Untranslatable as exc:
                self.note(item, exc.where, exc.message)
        post = _text(data.get("post_action")) or "return"
        target = _text(data.get("post_action_property"))
        success: dict[str, Any] = {"kind": "message", "message": "Thank you!", "redirect_url": None}
        if post == "redirect" and re.match(r"https?://", target):
            success = {"kind": "redirect", "message": "Thank you!", "redirect_url": target}
        elif post == "message" and target:
            success["message"] = target[:5000]
        elif post not in ("return", "message"):
            self.note(record, "/post_action", f"The post action {post!r} is not supported.")
        self.add(
            "form",
            record,
            record.name,
            {
                "name": record.name,
                "description": _strip_tags(data.get("description"), 5000),
                "alias": _form_alias(data.get("alias"), record.name),
                "projects": [],
                "is_published": _truthy(data.get("is_published", True)),
                "identify_by": "email",
                "fields": docs,
                "actions": actions,
                "success": success,
                "allowed_origins": [],
            },
        )

    def form_field(self, item: _Record, names: set[str]) -> dict[str, Any] | None:
        data = item.data
        mautic_type = _text(data.get("type"))
        if mautic_type == "button":
            return None  # every form here has its submit button
        type_ = self.FORM_FIELD_TYPES.get(mautic_type)
        if type_ is None:
            self.note(item, "/type", f"The form field type {mautic_type!r} is not supported.")
            return None
        name = _input_name(data.get("alias") or data.get("label"))
        while name in names:
            name = (name[:56] + f"_{len(names)}")[:60]
        names.add(name)
        props = self.props(item)
        options: list[dict[str, str]] = []
        raw_list = props.get("list") or props.get("optionlist")
        if isinstance(raw_list, dict):
            raw_list = raw_list.get("list")
        if isinstance(raw_list, list):
            for option in raw_list:
                if isinstance(option, dict):
                    value = _text(option.get("value") or option.get("label"), 200)
                    label = _text(option.get("label") or value, 200)
                else:
                    value = label = _text(option, 200)
                if value:
                    options.append({"label": label, "value": value})
        elif isinstance(raw_list, str) and raw_list.strip():
            for line in raw_list.split("|"):
                if line.strip():
                    options.append({"label": line.strip()[:200], "value": line.strip()[:200]})
        if type_ in ("select", "radio", "checkbox_group") and not options:
            type_ = "text"
            self.note(item, "/properties", "A choice field without options becomes a text field.")
        mapped = _text(data.get("mapped_field") or data.get("lead_field"))
        contact_field = None
        if mapped:
            if _text(data.get("mapped_object") or "contact") in ("company",):
                self.note(item, "/mapped_field", "Company fields are not filled by forms here.")
            else:
                contact_field = self.use_field(mapped, None)
                if contact_field is None:
                    self.note(item, "/mapped_field", f"The contact field {mapped!r} is unknown.")
        if contact_field and type_ == "email" and contact_field != "email":
            type_ = "text"
        return {
            "key": item.uuid,
            "label": _text(data.get("label"), 500),
            "type": type_,
            "name": name,
            "contact_field": contact_field,
            "required": _truthy(data.get("is_required")),
            "default": _text(data.get("default_value"), 200) or None,
            "placeholder": _text(props.get("placeholder"), 200),
            "help": _text(data.get("help_message"), 1000),
            "options": options if type_ in ("select", "radio", "checkbox_group") else [],
            "validation": {
                "min_length": None,
                "max_length": None,
                "min": None,
                "max": None,
                "pattern": None,
            },
            "consent_text": None,
        }

    def form_action(self, item: _Record) -> list[dict[str, Any]]:
        type_ = _text(item.data.get("type"))
        props = self.props(item)
        at = item.pointer + "/properties"
        if type_ == "lead.changelist":
            out = []
            for key, ours in (
                ("addToLists", "segments.add"),
                ("removeFromLists", "segments.remove"),
            ):
                ids = _ids(props.get(key))
                if ids is None:
                    raise Untranslatable(
                        f"{key} is not a list of segment ids.", f"/properties/{key}"
                    )
                refs = [self.ref("segment", i, f"{at}/{key}") for i in ids]
                if refs:
                    out.append({"type": ours, "config": {"segments": refs}})
            if not out:
                raise Untranslatable("The action changes no segment.", "/properties")
            return out
        if type_ in ("lead.changetags", "lead.addtags"):
            add, remove = _strings(props.get("add_tags")), _strings(props.get("remove_tags"))
            if not add and not remove:
                raise Untranslatable("The action changes no tag.", "/properties")
            return [{"type": "tags.change", "config": {"add": add, "remove": remove}}]
        if type_ == "lead.pointschange":
            points = _int(props.get("points"))
            operator = _text(props.get("operator") or "plus")
            if points is None or operator not in ("plus", "minus"):
                raise Untranslatable(
                    "Only adding or subtracting points is supported (not multiplying or dividing).",
                    "/properties/operator",
                )
            return [
                {
                    "type": "points.change",
                    "config": {"delta": points if operator == "plus" else -points},
                }
            ]
        if type_ == "email.send.lead":
            email = self.ref("email", props.get("email"), f"{at}/email")
            return [
                {
                    "type": "email.send_to_contact",
                    "config": {"email_id": email, "kind": "transactional"},
                }
            ]
        if type_ == "email.send.user":
            inner = _dict(props.get("useremail"))
            email = self.ref(
                "email", inner.get("email", props.get("email")), f"{at}/useremail/email"
            )
            if props.get("user_id"):
                self.note(
                    item,
                    "/properties/user_id",
                    "Users are not imported: the email goes "
                    "to the listed addresses and the owner only.",
                )
            addresses = [a for a in _strings(props.get("to")) if "@" in a]
            return [
                {
                    "type": "email.send_to_users",
                    "config": {
                        "email_id": email,
                        "user_ids": [],
                        "addresses": addresses,
                        "to_owner": _truthy(props.get("to_owner")),
                    },
                }
            ]
        if type_ in ("campaign.addlead", "campaign.addremovelead"):
            ids = _ids(props.get("addToCampaigns") or props.get("addTo"))
            known = [
                self.by_id["campaign"][i].uuid for i in ids or [] if i in self.by_id["campaign"]
            ]
            if props.get("removeFromCampaigns") or props.get("removeFrom"):
                self.note(
                    item, "/properties", "Removing from campaigns on submission is not supported."
                )
            if not known:
                raise Untranslatable("The campaigns it adds to are not in the file.", "/properties")
            return [{"type": "campaigns.add", "config": {"campaigns": known}}]
        raise Untranslatable(f"The form action {type_!r} is not supported.", "/type")

    # -- segments ----------------------------------------------------------------------

    def segment(self, record: _Record) -> None:
        data = record.data
        ok, raw = self.decoded(record, "filters", "a list of filters")
        if not ok:
            return
        if isinstance(raw, dict):
            raw = list(raw.values())
        if raw is None:
            raw = []
        if not isinstance(raw, list):
            self.error(f"{record.pointer}/filters", "Expected a list of filters.", "invalid_type")
            return
        groups: list[list[dict[str, Any]]] = [[]]
        for index, item in enumerate(raw):
            at = f"/filters/{index}"
            if not isinstance(item, dict):
                self.error(record.pointer + at, "Expected a filter object.", "invalid_type")
                continue
            if index and _text(item.get("glue")).lower() == "or":
                groups.append([])
            try:
                groups[-1].append(self.filter(record, item, at))
            except Untranslatable as exc:
                self.note(
                    record,
                    at + exc.where,
                    exc.message + " The condition was left out: the segment may match more "
                    "contacts than in Mautic; review it before publishing.",
                )
        groups = [g for g in groups if g]
        if len(groups) <= 1:
            filters = {"match": "all", "conditions": groups[0] if groups else []}
        else:
            filters = {
                "match": "any",
                "conditions": [
                    g[0] if len(g) == 1 else {"match": "all", "conditions": g} for g in groups
                ],
            }
        self.add(
            "segment",
            record,
            record.name,
            {
                "name": record.name,
                "alias": _segment_alias(data.get("alias")),
                "description": _strip_tags(data.get("description"), 5000),
                "is_public": _truthy(data.get("is_global", True)),
                "is_published": _truthy(data.get("is_published", True)),
                "filters": filters,
                "projects": [],
            },
        )

    def filter(self, record: _Record, item: dict[str, Any], at: str) -> dict[str, Any]:
        field = _text(item.get("field"))
        operator = _text(item.get("operator"))
        kind = _text(item.get("type"))
        props = _dict(item.get("properties"))
        value = props.get("filter", item.get("filter"))
        obj = _text(item.get("object") or "lead")
        if obj == "company":
            raise Untranslatable(f"Company field filters ({field!r}) are not supported.", "/field")
        if field == "leadlist":
            ids = _ids(value)
            op = {"in": "in", "!in": "not_in"}.get(operator)
            if ids is None or op is None:
                raise Untranslatable(
                    "Only 'in' / 'not in' segment filters are supported.", "/operator"
                )
            refs = [self.ref("segment", i, f"{record.pointer}{at}/properties/filter") for i in ids]
            return {"type": "segment", "operator": op, "value": refs}
        if field == "tags":
            names = [v for v in _strings(value) if not v.isdigit()]
            op = {"in": "has_any", "!in": "has_none"}.get(operator)
            if op is None or not names or len(names) != len(_strings(value)):
                raise Untranslatable(
                    "Tag filters name tags by their Mautic ids, which the export does not carry.",
                    "/properties/filter",
                )
            return {"type": "tags", "operator": op, "value": names}
        if field in ("dnc_bounced", "dnc_unsubscribed", "dnc_manual_email"):
            reason = {"dnc_bounced": "bounced", "dnc_unsubscribed": "unsubscribed"}.get(
                field, "manual"
            )
            on = _truthy(value)
            if operator == "!=":
                on = not on
            elif operator != "=":
                raise Untranslatable(
                    f"The operator {operator!r} is not supported here.", "/operator"
                )
            return {
                "type": "dnc",
                "field": "email",
                "operator": "on" if on else "not_on",
                "value": [reason],
            }
        if field == "points":
            op = POINTS_OPERATORS.get(operator)
            number = _int(value)
            if op is None or number is None:
                raise Untranslatable("Only comparisons of points with a number are supported.", "")
            return {"type": "points", "operator": op, "value": number}
        if field in ("lead_email_received", "lead_email_read"):
            ids = _ids(value)
            op = {"in": "in", "!in": "not_in"}.get(operator)
            if ids is None or op is None:
                raise Untranslatable(
                    "Only 'in' / 'not in' email filters are supported.", "/operator"
                )
            refs = [self.ref("email", i, f"{record.pointer}{at}/properties/filter") for i in ids]
            return {"type": "email_opened", "operator": op, "value": refs}
        if field in ("date_added", "last_active"):
            op = OPERATORS.get(operator)
            if op not in ("=", "!=", ">", ">=", "<", "<=", "empty", "not_empty"):
                raise Untranslatable(
                    f"The operator {operator!r} is not supported here.", "/operator"
                )
            out: dict[str, Any] = {
                "type": "created" if field == "date_added" else "last_active",
                "operator": op,
            }
            if op not in ("empty", "not_empty"):
                out["value"] = self.date_value(value)
            return out
        if field in (
            "owner_id",
            "stage",
            "globalcategory",
            "lead_email_sent",
            "page_id",
            "hit_url",
            "lead_asset_download",
            "campaign",
            "device_type",
        ):
            raise Untranslatable(f"The filter on {field!r} is not supported.", "/field")
        alias = self.use_field(field, kind)
        if alias is None:
            raise Untranslatable(f"The field {field!r} cannot be used here.", "/field")
        return self.field_condition(alias, operator, value, kind)

    def date_value(self, value: Any) -> str:
        text = " ".join(_text(value).strip().lower().split())
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return text
        if re.fullmatch(
            r"today|yesterday|tomorrow|(this|last|next) (week|month|year)|[+-]\s*\d{1,4}\s*"
            r"(day|week|month|year)s?",
            text,
        ):
            return text
        raise Untranslatable(
            f"The date {value!r} is not a date or relative date here.", "/properties/filter"
        )

    def field_condition(
        self, alias: str, operator: str, value: Any, mautic_type: str
    ) -> dict[str, Any]:
        type_ = "field" if alias in OUR_CORE else "custom_field"
        field_type = FIELD_TYPES.get(mautic_type, "text") if type_ == "custom_field" else None
        if type_ == "custom_field":
            field_type = self.fields.get(alias, (field_type, ""))[0]
        text_value = _text(value)
        if operator in ("like", "!like"):
            if "%" in text_value:
                if operator == "!like":
                    raise Untranslatable("'not like' with a pattern is not supported.", "/operator")
                return {"type": type_, "field": alias, "operator": "like", "value": text_value}
            operator = "contains" if operator == "like" else "!contains"
        if operator == "!contains":
            return {"type": type_, "field": alias, "operator": "not_contains", "value": text_value}
        if operator == "date" or (
            field_type in ("date", "datetime") and text_value in ("birthday", "anniversary")
        ):
            if text_value in ("birthday", "anniversary"):
                return {"type": type_, "field": alias, "operator": "anniversary"}
            return {"type": type_, "field": alias, "operator": "=", "value": self.date_value(value)}
        op = OPERATORS.get(operator)
        if op is None:
            raise Untranslatable(f"The operator {operator!r} is not supported here.", "/operator")
        if alias == "country" and op not in ("empty", "not_empty"):
            codes = _strings(value) if op in ("in", "not_in") else [text_value]
            if not all(re.fullmatch(r"[A-Z]{2}", c) for c in codes):
                raise Untranslatable(
                    "Countries are ISO codes here; Mautic's country names are not translated.",
                    "/properties/filter",
                )
        out: dict[str, Any] = {"type": type_, "field": alias, "operator": op}
        if op in ("empty", "not_empty"):
            return out
        if op in ("in", "not_in"):
            out["value"] = _strings(value)
        elif op == "between":
            pair = value if isinstance(value, list) else _strings(value)
            if len(pair) != 2:
                raise Untranslatable("'between' needs two values.", "/properties/filter")
            out["value"] = [self.typed(v, field_type) for v in pair]
        else:
            out["value"] = self.typed(value, field_type)
        return out

    def typed(self, value: Any, field_type: str | None) -> Any:
        if field_type == "number":
            text = _text(value).strip()
            try:
                number = float(text)
            except ValueError:
                raise Untranslatable(f"{value!r} is not a number.", "/properties/filter") from None
            return int(number) if number.is_integer() else number
        if field_type == "boolean":
            return _truthy(value)
        if field_type in ("date", "datetime"):
            return self.date_value(value)
        return _text(value)

    # -- campaigns ---------------------------------------------------------------------

    def sources(self) -> dict[int, list[tuple[str, str]]]:
        """Segment and form sources by Mautic campaign id, from the dependencies section and
        from the campaign records' own lists."""
        found: dict[int, list[tuple[str, str]]] = {}

        def add(campaign: int | None, kind: str, value: Any, pointer: str) -> None:
            if campaign is None or campaign not in self.by_id["campaign"]:
                return
            uuid = self.ref(kind, value, pointer)
            if uuid and (kind, uuid) not in found.setdefault(campaign, []):
                found[campaign].append((kind, uuid))

        deps = self.root.get("dependencies")
        pointer = f"{self.base}/dependencies"
        groups: Iterable[tuple[str, Any]] = []
        if isinstance(deps, dict):
            groups = [(f"{pointer}", deps)]
        elif isinstance(deps, list):
            groups = [(f"{pointer}/{i}", g) for i, g in enumerate(deps)]
        elif deps is not None:
            self.error(pointer, "Expected a list of dependency groups.", "invalid_type")
        for at, group in groups:
            if not isinstance(group, dict):
                self.error(at, "Expected a dependency group (an object).", "invalid_type")
                continue
            for name, items in group.items():
                if not isinstance(items, list):
                    self.error(f"{at}/{name}", "Expected a list of dependencies.", "invalid_type")
                    continue
                for index, dep in enumerate(items):
                    where = f"{at}/{name}/{index}"
                    if not isinstance(dep, dict):
                        self.error(where, "Expected a dependency (an object).", "invalid_type")
                        continue
                    campaign = _int(dep.get("campaign"))
                    if "campaign_event" in dep or "form_field" in dep or "form_action" in dep:
                        continue
                    for key in RECORD_KEYS["segment"]:
                        if key in dep:
                            add(campaign, "segment", dep[key], f"{where}/{key}")
                    for key in RECORD_KEYS["form"]:
                        if key in dep:
                            add(campaign, "form", dep[key], f"{where}/{key}")
        for record in self.records["campaign"]:
            for key, kind in (("lists", "segment"), ("forms", "form")):
                value = record.data.get(key)
                if isinstance(value, list):
                    for index, item in enumerate(value):
                        add(record.id, kind, item, f"{record.pointer}/{key}/{index}")
        return found

    def campaign(self, record: _Record, sources: list[tuple[str, str]]) -> None:
        data = record.data
        ok, canvas = self.decoded(record, "canvas_settings", "an object (or its JSON)")
        if not ok:
            return
        if canvas in (None, "", []):
            canvas = {}
        if not isinstance(canvas, dict):
            self.error(f"{record.pointer}/canvas_settings", "Expected an object.", "invalid_type")
            return
        raw_connections = canvas.get("connections")
        connections: list[Any] = raw_connections if isinstance(raw_connections, list) else []
        anchors: dict[tuple[str, str], str] = {}
        for item in connections:
            if isinstance(item, dict) and isinstance(item.get("anchors"), dict):
                anchors[(str(item.get("sourceId")), str(item.get("targetId")))] = _text(
                    item["anchors"].get("source")
                )
        only = len(self.records["campaign"]) == 1
        events: list[_Event] = []
        for item in self.records["event"]:
            owner = _int(item.data.get("campaign_id") or item.data.get("campaign"))
            if owner is None and only:
                owner = record.id
            if owner is None or owner not in self.by_id["campaign"]:
                self.error(
                    f"{item.pointer}/campaign_id",
                    "The step names no campaign of the file.",
                    "missing_reference",
                )
                continue
            if owner != record.id:
                continue
            if item.data.get("deleted"):
                continue
            parent = _int(item.data.get("parent_id", item.data.get("parent")))
            path = _text(item.data.get("decision_path", item.data.get("decisionPath"))) or None
            kind = _text(item.data.get("event_type", item.data.get("eventType")))
            if kind not in ("action", "decision", "condition"):
                self.error(
                    f"{item.pointer}/event_type",
                    "Expected action, decision or condition.",
                    "invalid_value",
                )
                continue
            type_ = _text(item.data.get("type"))
            if not type_:
                self.error(f"{item.pointer}/type", "The step has no type.", "missing")
                continue
            events.append(_Event(item, type_, kind, self.props(item), parent, path, item.uuid))
        self.fail_if_errors()
        by_id = {e.record.id: e for e in events}
        for event in events:
            if event.parent is None:
                event.path = None
                continue
            above = by_id.get(event.parent)
            if above is None:
                self.error(
                    f"{event.record.pointer}/parent_id",
                    f"The parent step {event.parent} is not in the campaign.",
                    "missing_reference",
                )
                continue
            if above.kind == "action":
                event.path = None
            elif event.path not in ("yes", "no"):
                anchor = anchors.get((str(above.record.id), str(event.record.id)))
                if anchor in ("yes", "no"):
                    event.path = anchor
                else:
                    self.error(
                        f"{event.record.pointer}/decision_path",
                        "A step under a decision or condition needs its path, yes or no.",
                        "missing",
                    )
        self.fail_if_errors()
        for event in events:
            try:
                event.translated = self.step(event, by_id)
            except Untranslatable as exc:
                event.problem = exc
        self.fail_if_errors()
        children: dict[int, list[_Event]] = {}
        for event in events:
            if event.parent is not None:
                children.setdefault(event.parent, []).append(event)
        dropped: set[int] = set()
        refused: list[_Event] = []
        for event in events:
            if event.problem is None:
                continue
            if children.get(event.record.id):
                refused.append(event)
            else:
                dropped.add(event.record.id)
        # A jump to a dropped step has nowhere to go: it is dropped too (jumps are leaves).
        for event in events:
            if event.translated and event.translated[0] == "campaign.jump_to_event":
                target = _int(event.props.get("jumpToEvent"))
                if target in dropped:
                    event.problem = Untranslatable(
                        "It jumps to a step that was not translated.", "/properties/jumpToEvent"
                    )
                    dropped.add(event.record.id)
        if refused:
            types = sorted({e.type for e in refused})
            raise ValidationFailed(
                "The Mautic campaign has steps that cannot be translated and have other steps "
                "below them: " + ", ".join(types),
                [
                    FieldError(
                        e.record.pointer + (e.problem.where if e.problem else ""),
                        f"{e.type} ({e.record.name}): "
                        + (e.problem.message if e.problem else "")
                        + " Steps hang below it, so it cannot be left out.",
                        "untranslatable",
                        parameter="file",
                    )
                    for e in refused
                ],
                extra={"unknown_event_types": types},
            )
        kept = [e for e in events if e.record.id not in dropped]
        for event in events:
            if event.record.id in dropped and event.problem is not None:
                self.note(
                    event.record,
                    event.problem.where,
                    f"Step {event.type!r} left out (nothing followed it): {event.problem.message}",
                )
        docs = []
        for event in kept:
            assert event.translated is not None
            type_, config = event.translated
            docs.append(
                {
                    "key": event.key,
                    "type": type_,
                    "name": _strip_tags(event.record.data.get("name"), 200),
                    "description": _strip_tags(event.record.data.get("description"), 2000),
                    "config": config,
                    "timing": self.timing(event, by_id),
                }
            )
        edges = [
            {
                "source": by_id[e.parent].key if e.parent is not None else None,
                "target": e.key,
                "path": e.path,
            }
            for e in kept
        ]
        behaviour = _text(data.get("republish_behavior"))
        self.add(
            "campaign",
            record,
            _strip_tags(data.get("name"), 200) or record.name,
            {
                "name": _strip_tags(data.get("name"), 200) or record.name,
                "description": _strip_tags(data.get("description"), 5000),
                "projects": [],
                "publish_up": None,
                "publish_down": None,
                "allow_restart": _truthy(data.get("allow_restart")),
                "reactivation": behaviour if behaviour in REACTIVATION else "count_all_time",
                "exit_on_source_leave": True,
                "default_timezone": None,
                "sources": [
                    {"kind": kind, "id": uuid, "audience": "live", "locked_at": None}
                    # Campaigns list their form sources before their segments.
                    for kind, uuid in sorted(sources, key=lambda s: s[0] != "form")
                ],
                "events": docs,
                "edges": edges,
                "canvas": self.canvas(canvas, {e.record.id: e.key for e in kept}),
            },
        )

    def canvas(self, canvas: dict[str, Any], keys: dict[int, str]) -> dict[str, Any]:
        nodes: dict[str, dict[str, int]] = {}
        sources: dict[str, int] | None = None
        for node in canvas.get("nodes") or []:
            if not isinstance(node, dict):
                continue
            try:
                at = {
                    "x": round(float(node.get("positionX") or 0)),
                    "y": round(float(node.get("positionY") or 0)),
                }
            except (TypeError, ValueError):
                continue
            node_id = str(node.get("id"))
            if node_id in ("lists", "forms"):
                sources = sources or at
            elif _int(node_id) in keys:
                nodes[keys[_int(node_id)]] = at  # type: ignore[index]
        out: dict[str, Any] = {"nodes": nodes}
        if sources is not None:
            out["sources"] = sources
        return out if nodes or sources else {}

    def timing(self, event: _Event, by_id: Mapping[int, _Event]) -> dict[str, Any]:
        data = event.record.data
        at = event.record.pointer

        def get(*keys: str) -> Any:
            for key in keys:
                if data.get(key) not in (None, ""):
                    return data[key]
            return None

        mode = _text(get("trigger_mode", "triggerMode")) or "immediate"
        if event.kind == "decision":
            return TimingDoc().model_dump(mode="json")
        values: dict[str, Any] = {"mode": "immediate"}
        if mode == "interval":
            amount = _int(get("trigger_interval", "triggerInterval"))
            unit = TIMING_UNITS.get(_text(get("trigger_interval_unit", "triggerIntervalUnit")))
            if amount is None or unit is None or amount < 0:
                self.error(
                    f"{at}/trigger_interval",
                    "An interval needs a number and a unit (i, h, d, m or y).",
                    "invalid_value",
                )
                return TimingDoc().model_dump(mode="json")
            values.update(mode="interval", amount=amount, unit=unit)
        elif mode == "date":
            raw = get("trigger_date", "triggerDate")
            try:
                values.update(mode="date", at=_when(raw))
            except ValueError:
                self.error(f"{at}/triggerDate", "Expected a date and time.", "invalid_value")
                return TimingDoc().model_dump(mode="json")
        elif mode == "optimized":
            self.note(
                event.record,
                "/trigger_mode",
                "Send-time optimisation is not supported; the step runs at once.",
            )
        elif mode != "immediate":
            self.error(f"{at}/trigger_mode", f"Unknown trigger mode {mode!r}.", "invalid_value")
        try:
            hour = _hour(get("trigger_hour", "triggerHour"))
            start = _hour(get("trigger_restricted_start_hour", "triggerRestrictedStartHour"))
            stop = _hour(get("trigger_restricted_stop_hour", "triggerRestrictedStopHour"))
        except ValueError:
            self.error(f"{at}/trigger_hour", "Expected hours as HH:MM.", "invalid_value")
            return TimingDoc().model_dump(mode="json")
        if mode == "interval":
            if hour:
                values["at_hour"] = hour
            elif start and stop:
                values["window_start"], values["window_end"] = start, stop
            days = get("trigger_restricted_dow", "triggerRestrictedDaysOfWeek")
            if isinstance(days, dict):
                days = list(days.values())
            ours: set[int] = set()
            for day in days if isinstance(days, list) else []:
                number = _int(day)
                if number == -1:
                    ours.update(range(5))
                elif number is not None and 0 <= number <= 6:
                    # Mautic counts from Sunday (0), we count from Monday (0).
                    ours.add((number + 6) % 7)
                else:
                    self.note(event.record, "/trigger_restricted_dow", f"Day {day!r} ignored.")
            if ours and len(ours) < 7:
                values["weekdays"] = sorted(ours)
        elif hour or (start and stop):
            self.note(
                event.record,
                "/trigger_hour",
                "Send hours apply to delayed steps only here; ignored for this step.",
            )
        parent = by_id.get(event.parent) if event.parent is not None else None
        if (
            parent is not None
            and parent.kind == "decision"
            and event.path == "no"
            and values["mode"] == "immediate"
        ):
            self.note(
                event.record,
                "/trigger_mode",
                "A step on a decision's no path needs the time the contact has to act; set a "
                "delay before publishing.",
            )
        return TimingDoc.model_validate(values).model_dump(mode="json")

    # -- steps -------------------------------------------------------------------------

    def step(self, event: _Event, by_id: Mapping[int, _Event]) -> tuple[str, dict[str, Any]]:
        handler = STEPS.get(event.type)
        if handler is None:
            raise Untranslatable(f"The step type {event.type!r} has no equivalent here.", "/type")
        type_, config = handler(self, event, by_id)
        return type_, self.normalise(type_, config)

    def at(self, event: _Event, key: str) -> str:
        return f"{event.record.pointer}/properties/{key}"


def _email_send(t: _Translator, e: _Event, _: Mapping[int, _Event]) -> tuple[str, dict[str, Any]]:
    value = e.props.get("email", e.record.data.get("channel_id"))
    email = t.ref("email", value, t.at(e, "email"))
    kind = _text(e.props.get("email_type")) or "marketing"
    if kind not in ("marketing", "transactional"):
        kind = "marketing"
    return "email.send", {"email_id": email, "kind": kind}


def _email_to_user(
    t: _Translator, e: _Event, _: Mapping[int, _Event]
) -> tuple[str, dict[str, Any]]:
    inner = _dict(e.props.get("useremail"))
    email = t.ref("email", inner.get("email", e.props.get("email")), t.at(e, "useremail/email"))
    addresses = [a for key in ("to", "cc", "bcc") for a in _strings(e.props.get(key)) if "@" in a]
    if e.props.get("user_id"):
        t.note(
            e.record,
            "/properties/user_id",
            "Users are not imported: the email goes to the owner and the listed addresses only.",
        )
    to_owner = _truthy(e.props.get("to_owner"))
    if not addresses and not to_owner:
        raise Untranslatable("It names only users, which are not imported.", "/properties/user_id")
    return "email.send_to_user", {"email_id": email, "to_owner": to_owner, "addresses": addresses}


def _change_points(
    t: _Translator, e: _Event, _: Mapping[int, _Event]
) -> tuple[str, dict[str, Any]]:
    if _int(e.props.get("group")):
        raise Untranslatable(
            "It changes a point group's score; point groups are not supported.", "/properties/group"
        )
    points = _int(e.props.get("points"))
    if points is None:
        raise Untranslatable("It names no number of points.", "/properties/points")
    return "contact.change_points", {"delta": points}


def _change_segments(
    t: _Translator, e: _Event, _: Mapping[int, _Event]
) -> tuple[str, dict[str, Any]]:
    out: dict[str, list[str | None]] = {}
    for key, ours in (("addToLists", "add"), ("removeFromLists", "remove")):
        ids = _ids(e.props.get(key))
        if ids is None:
            raise Untranslatable(f"{key} is not a list of segment ids.", f"/properties/{key}")
        out[ours] = [t.ref("segment", i, t.at(e, key)) for i in ids]
    return "contact.change_segments", out


def _update_fields(
    t: _Translator, e: _Event, _: Mapping[int, _Event]
) -> tuple[str, dict[str, Any]]:
    values: dict[str, Any] = {}
    for alias, value in e.props.items():
        if value in (None, "", []):
            continue  # Mautic leaves fields with an empty value untouched
        ours = t.use_field(str(alias))
        if ours is None:
            t.note(e.record, f"/properties/{alias}", f"The field {alias!r} cannot be set here.")
            continue
        values[ours] = value
    if not values:
        raise Untranslatable("It sets no field that exists here.", "/properties")
    return "contact.update_fields", {"values": values}


def _change_tags(t: _Translator, e: _Event, _: Mapping[int, _Event]) -> tuple[str, dict[str, Any]]:
    add, remove = _strings(e.props.get("add_tags")), _strings(e.props.get("remove_tags"))
    if not add and not remove:
        raise Untranslatable("It changes no tag.", "/properties")
    return "contact.change_tags", {"add": add, "remove": remove}


def _channels(value: Any) -> list[str]:
    found = [c.lower() for c in _strings(value) if re.fullmatch(r"[a-z][a-z0-9_]{0,19}", c.lower())]
    return found or ["email"]


def _add_dnc(t: _Translator, e: _Event, _: Mapping[int, _Event]) -> tuple[str, dict[str, Any]]:
    return "contact.add_dnc", {
        "channels": _channels(e.props.get("channels")),
        "reason": "manual",
        "comment": _text(e.props.get("reason"), 500),
    }


def _remove_dnc(t: _Translator, e: _Event, _: Mapping[int, _Event]) -> tuple[str, dict[str, Any]]:
    return "contact.remove_dnc", {"channels": _channels(e.props.get("channels"))}


def _delete(t: _Translator, e: _Event, _: Mapping[int, _Event]) -> tuple[str, dict[str, Any]]:
    return "contact.delete", {}


def _campaign_list(t: _Translator, e: _Event, key: str) -> list[Any]:
    raw = e.props.get(key)
    items = raw if isinstance(raw, list) else ([] if raw in (None, "") else [raw])
    out: list[Any] = []
    for item in items:
        if item == "this" or _int(item) == e.record.data.get("campaign_id"):
            out.append("this")
        elif _int(item) in t.by_id["campaign"]:
            out.append(t.by_id["campaign"][_int(item)].uuid)  # type: ignore[index]
        else:
            t.note(
                e.record,
                f"/properties/{key}",
                f"Campaign {item!r} is not in the file; left out of the step.",
            )
    return out


def _change_campaigns(
    t: _Translator, e: _Event, _: Mapping[int, _Event]
) -> tuple[str, dict[str, Any]]:
    add, remove = _campaign_list(t, e, "addTo"), _campaign_list(t, e, "removeFrom")
    if not add and not remove:
        raise Untranslatable("None of its campaigns is in the file.", "/properties")
    return "campaign.change_campaigns", {"add": add, "remove": remove}


def _jump(t: _Translator, e: _Event, by_id: Mapping[int, _Event]) -> tuple[str, dict[str, Any]]:
    target = by_id.get(_int(e.props.get("jumpToEvent")) or -1)
    if target is None:
        raise Untranslatable(
            "It jumps to a step that is not in the campaign.", "/properties/jumpToEvent"
        )
    return "campaign.jump_to_event", {"target": target.key}


def _webhook(t: _Translator, e: _Event, _: Mapping[int, _Event]) -> tuple[str, dict[str, Any]]:
    url = _text(e.props.get("url")).strip()
    if not re.match(r"https?://", url):
        raise Untranslatable("It has no http(s) URL.", "/properties/url")
    method = _text(e.props.get("method") or "post").upper()
    if method not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        method = "POST"

    def pairs(key: str) -> list[tuple[str, str]]:
        raw = e.props.get(key)
        if isinstance(raw, dict):
            raw = raw.get("list", raw)
        out = []
        for item in raw if isinstance(raw, list) else []:
            if isinstance(item, dict) and item.get("label"):
                out.append((_text(item["label"]), _tokens(_text(item.get("value")))))
        return out

    headers = [
        {"name": n, "value": v}
        for n, v in pairs("headers")
        if re.fullmatch(r"[A-Za-z0-9-]{1,76}", n) and "\n" not in v
    ]
    data = pairs("additional_data")
    json_body = any(h["name"].lower() == "content-type" and "json" in h["value"] for h in headers)
    body = ""
    if data and method == "GET":
        url += ("&" if "?" in url else "?") + _form_encoded(data)
    elif data and method != "DELETE":
        if json_body:
            # Tokens inside JSON strings are escaped by the webhook step when it renders.
            body = json.dumps(dict(data))
        else:
            body = _form_encoded(data)
            if not any(h["name"].lower() == "content-type" for h in headers):
                headers.append(
                    {"name": "Content-Type", "value": "application/x-www-form-urlencoded"}
                )
    timeout = _int(e.props.get("timeout")) or 10
    return "webhook.send", {
        "url": _tokens(url),
        "method": method,
        "headers": headers,
        "body": body,
        "timeout_s": max(1, min(30, timeout)),
    }


def _form_encoded(pairs: list[tuple[str, str]]) -> str:
    """key=value pairs, URL-encoded except the tokens (the webhook step encodes their values)."""
    from urllib.parse import quote

    def encode(text: str) -> str:
        parts = re.split(r"(\{contactfield=[^}]*\})", text)
        return "".join(p if p.startswith("{contactfield=") else quote(p, safe="") for p in parts)

    return "&".join(f"{encode(k)}={encode(v)}" for k, v in pairs)


def _stage(t: _Translator, e: _Event, _: Mapping[int, _Event]) -> tuple[str, dict[str, Any]]:
    stage = _int(e.props.get("stage"))
    if stage is None or stage not in t.by_id["stage"]:
        raise Untranslatable("Its stage is not in the file.", "/properties/stage")
    return "contact.change_stage", {"stage_id": t.by_id["stage"][stage].uuid}


def _parent_email(t: _Translator, e: _Event, by_id: Mapping[int, _Event]) -> str | None:
    parent = by_id.get(e.parent) if e.parent is not None else None
    if parent is not None and parent.type == "email.send":
        value = parent.props.get("email", parent.record.data.get("channel_id"))
        return t.ref("email", value, f"{parent.record.pointer}/properties/email")
    channel = e.record.data.get("channel_id")
    return t.ref("email", channel, f"{e.record.pointer}/channel_id") if channel else None


def _email_open(
    t: _Translator, e: _Event, by_id: Mapping[int, _Event]
) -> tuple[str, dict[str, Any]]:
    return "email.open", {"email_id": _parent_email(t, e, by_id)}


def _email_click(
    t: _Translator, e: _Event, by_id: Mapping[int, _Event]
) -> tuple[str, dict[str, Any]]:
    urls = e.props.get("urls")
    if isinstance(urls, dict):
        urls = urls.get("list")
    patterns = [u for u in _strings(urls) if len(u) <= 2000]
    return "email.click", {"email_id": _parent_email(t, e, by_id), "urls": patterns}


def _page_hit(t: _Translator, e: _Event, _: Mapping[int, _Event]) -> tuple[str, dict[str, Any]]:
    ids = _ids(e.props.get("pages"))
    if ids is None:
        raise Untranslatable("pages is not a list of page ids.", "/properties/pages")
    pages = [t.ref("page", i, t.at(e, "pages")) for i in ids]
    referrer = _text(e.props.get("referer")).strip() or None
    return "page.hit", {
        "urls": _strings(e.props.get("url")),
        "referrer": referrer,
        "landing_pages": pages,
    }


def _device_hit(t: _Translator, e: _Event, _: Mapping[int, _Event]) -> tuple[str, dict[str, Any]]:
    names = {
        "desktop": "desktop",
        "smartphone": "mobile",
        "mobile": "mobile",
        "tablet": "tablet",
        "phablet": "mobile",
    }
    devices = sorted({names[d] for d in _strings(e.props.get("device_type")) if d in names})
    if not devices:
        raise Untranslatable(
            "Only device types (desktop, mobile, tablet) are supported.", "/properties/device_type"
        )
    for key in ("device_brand", "device_os"):
        if _strings(e.props.get(key)):
            t.note(
                e.record,
                f"/properties/{key}",
                "Device brands and systems are not supported; only the device type is checked.",
            )
    return "page.device_hit", {"devices": devices, "urls": []}


def _form_submit(t: _Translator, e: _Event, _: Mapping[int, _Event]) -> tuple[str, dict[str, Any]]:
    ids = _ids(e.props.get("forms"))
    if ids is None:
        raise Untranslatable("forms is not a list of form ids.", "/properties/forms")
    return "form.submit", {"forms": [t.ref("form", i, t.at(e, "forms")) for i in ids]}


def _asset_download(
    t: _Translator, e: _Event, _: Mapping[int, _Event]
) -> tuple[str, dict[str, Any]]:
    ids = _ids(e.props.get("assets"))
    if ids is None:
        raise Untranslatable("assets is not a list of asset ids.", "/properties/assets")
    return "asset.download", {"assets": [t.ref("asset", i, t.at(e, "assets")) for i in ids]}


def _field_value(t: _Translator, e: _Event, _: Mapping[int, _Event]) -> tuple[str, dict[str, Any]]:
    field = _text(e.props.get("field"))
    alias = t.use_field(field) if field else None
    if alias is None:
        raise Untranslatable(f"The field {field!r} cannot be used here.", "/properties/field")
    try:
        condition = t.field_condition(
            alias, _text(e.props.get("operator")), e.props.get("value"), ""
        )
    except Untranslatable as exc:
        raise Untranslatable(
            exc.message, "/properties" + exc.where.replace("/properties/filter", "/value")
        ) from None
    return "contact.field_value", {
        "field": alias,
        "operator": condition["operator"],
        "value": condition.get("value"),
    }


def _has_tags(t: _Translator, e: _Event, _: Mapping[int, _Event]) -> tuple[str, dict[str, Any]]:
    tags = _strings(e.props.get("tags"))
    if not tags:
        raise Untranslatable("It names no tag.", "/properties/tags")
    return "contact.tags", {"tags": tags, "match": "any"}


def _in_segments(t: _Translator, e: _Event, _: Mapping[int, _Event]) -> tuple[str, dict[str, Any]]:
    ids = _ids(e.props.get("segments"))
    if not ids:
        raise Untranslatable("It names no segment.", "/properties/segments")
    return "contact.segments", {
        "segments": [t.ref("segment", i, t.at(e, "segments")) for i in ids],
        "member": True,
    }


def _in_stages(t: _Translator, e: _Event, _: Mapping[int, _Event]) -> tuple[str, dict[str, Any]]:
    ids = _ids(e.props.get("stages")) or []
    if not ids or any(i not in t.by_id["stage"] for i in ids):
        raise Untranslatable("Its stages are not in the file.", "/properties/stages")
    return "contact.stage", {"stages": [t.by_id["stage"][i].uuid for i in ids]}


def _points(t: _Translator, e: _Event, _: Mapping[int, _Event]) -> tuple[str, dict[str, Any]]:
    if _int(e.props.get("group")):
        raise Untranslatable(
            "It compares a point group's score; point groups are not supported.",
            "/properties/group",
        )
    operator = POINTS_OPERATORS.get(_text(e.props.get("operator")))
    score = _int(e.props.get("score"))
    if operator is None or score is None:
        raise Untranslatable(
            "Only comparisons of points with a number are supported.", "/properties/operator"
        )
    return "contact.points", {"operator": operator, "value": score}


def _dnc(t: _Translator, e: _Event, _: Mapping[int, _Event]) -> tuple[str, dict[str, Any]]:
    channels = _channels(e.props.get("channels"))
    raw_reason = e.props.get("reason")
    reason = DNC_REASONS.get(_int(raw_reason) or 0) or (
        _text(raw_reason) if _text(raw_reason) in ("unsubscribed", "bounced", "manual") else None
    )
    if len(channels) == 1:
        return "contact.dnc", {"channel": channels[0], "reason": reason}
    conditions = []
    for channel in channels:
        condition: dict[str, Any] = {"type": "dnc", "field": channel, "operator": "on"}
        if reason:
            condition["value"] = [reason]
        conditions.append(condition)
    return "condition.group", {"filters": {"match": "any", "conditions": conditions}}


def _campaigns(t: _Translator, e: _Event, _: Mapping[int, _Event]) -> tuple[str, dict[str, Any]]:
    if _truthy(e.props.get("dataAddedLimit")):
        raise Untranslatable(
            "A limit on the date the contact joined is not supported.", "/properties/dataAddedLimit"
        )
    ids = _ids(e.props.get("campaigns")) or []
    if not ids or any(i not in t.by_id["campaign"] for i in ids):
        raise Untranslatable("Its campaigns are not in the file.", "/properties/campaigns")
    return "contact.campaigns", {"campaigns": [t.by_id["campaign"][i].uuid for i in ids]}


def _valid_email(t: _Translator, e: _Event, _: Mapping[int, _Event]) -> tuple[str, dict[str, Any]]:
    return "contact.valid_email", {}


FORM_VALUE_OPERATORS = {
    "=": "=",
    "!=": "!=",
    "like": "contains",
    "contains": "contains",
    "startsWith": "starts_with",
    "endsWith": "ends_with",
    "empty": "empty",
    "!empty": "not_empty",
}


def _form_value(t: _Translator, e: _Event, _: Mapping[int, _Event]) -> tuple[str, dict[str, Any]]:
    form = t.ref("form", e.props.get("form"), t.at(e, "form"))
    operator = FORM_VALUE_OPERATORS.get(_text(e.props.get("operator")))
    if operator is None or (operator == "contains" and "%" in _text(e.props.get("value"))):
        raise Untranslatable(
            f"The operator {e.props.get('operator')!r} is not supported here.",
            "/properties/operator",
        )
    value = None if operator in ("empty", "not_empty") else _text(e.props.get("value"), 1000)
    return "form.submitted_value", {
        "form_id": form,
        "field": _input_name(e.props.get("field")),
        "operator": operator,
        "value": value,
    }


def _page_visited(t: _Translator, e: _Event, _: Mapping[int, _Event]) -> tuple[str, dict[str, Any]]:
    url = _text(e.props.get("page_url")).strip()
    if not url:
        raise Untranslatable(
            "Only visits by URL are supported (a Mautic landing page's "
            "address is not known before import).",
            "/properties/page",
        )
    for key in ("startDate", "endDate", "accumulative_time"):
        if e.props.get(key):
            raise Untranslatable(
                "Date ranges and time on page are not supported.", f"/properties/{key}"
            )
    if _int(e.props.get("page")):
        t.note(e.record, "/properties/page", "The landing page is not checked; the URL is.")
    return "page.visited", {"url": url, "within_days": None}


Handler = Callable[[_Translator, _Event, Mapping[int, _Event]], tuple[str, dict[str, Any]]]

# Mautic step types -> how each becomes ours. Types not listed have no equivalent.
STEPS: dict[str, Handler] = {
    "email.send": _email_send,
    "email.send.to.user": _email_to_user,
    "lead.changepoints": _change_points,
    "lead.changelist": _change_segments,
    "lead.updatelead": _update_fields,
    "lead.changetags": _change_tags,
    "lead.adddnc": _add_dnc,
    "lead.removednc": _remove_dnc,
    "lead.deletecontact": _delete,
    "campaign.addremovelead": _change_campaigns,
    "campaign.jump_to_event": _jump,
    "campaign.sendwebhook": _webhook,
    "stage.change": _stage,
    "email.open": _email_open,
    "email.click": _email_click,
    "page.pagehit": _page_hit,
    "page.devicehit": _device_hit,
    "form.submit": _form_submit,
    "asset.download": _asset_download,
    "lead.field_value": _field_value,
    "lead.tags": _has_tags,
    "lead.segments": _in_segments,
    "lead.stages": _in_stages,
    "lead.points": _points,
    "lead.dnc": _dnc,
    "lead.campaigns": _campaigns,
    "email.validate.address": _valid_email,
    "form.field_value": _form_value,
    "lead.pageHit": _page_visited,
}


def _normaliser(
    references: Callable[[str], dict[str, str] | None],
    models: Callable[[str], type[BaseModel] | None],
) -> Callable[[str, dict[str, Any]], dict[str, Any]]:
    """A step's config as the campaign service stores it (every default written out), with the
    uuids of referenced entities kept: they stand in as numbers while the type's settings model
    checks the config."""

    def normalise(type_: str, config: dict[str, Any]) -> dict[str, Any]:
        model = models(type_)
        if model is None:
            return config
        stand_in: dict[int, str] = {}
        trial = dict(config)
        for key in references(type_) or {}:
            value = trial.get(key)
            if isinstance(value, str) and value != "this":
                stand_in[len(stand_in) + 1] = value
                trial[key] = len(stand_in)
            elif isinstance(value, list):
                swapped = []
                for item in value:
                    if isinstance(item, str) and item != "this":
                        stand_in[len(stand_in) + 1] = item
                        swapped.append(len(stand_in))
                    else:
                        swapped.append(item)
                trial[key] = swapped
        try:
            dumped = model.model_validate(trial).model_dump(mode="json")
        except ValidationError:
            # The service reports it, at its pointer, when the manifest is checked.
            return config
        for key in references(type_) or {}:
            value = dumped.get(key)
            if isinstance(value, int) and value in stand_in:
                dumped[key] = stand_in[value]
            elif isinstance(value, list):
                dumped[key] = [
                    stand_in.get(v, v) if isinstance(v, int) and not isinstance(v, bool) else v
                    for v in value
                ]
        return dumped

    return normalise


def translate(
    entity_data: Any,
    asset_files: Mapping[str, bytes],
    *,
    exported_at: datetime | None = None,
    references: Callable[[str], dict[str, str] | None] | None = None,
    models: Callable[[str], type[BaseModel] | None] | None = None,
) -> Translation:
    """The manifest of a Mautic export. ``asset_files`` holds the ``assets/`` folder's files by
    their name in it. ``references`` and ``models`` describe the event types (default: this
    instance's registry). Raises ValidationFailed, with pointers into entity_data.json, for a
    document that cannot be read or a campaign that cannot be translated."""
    if references is None or models is None:
        from trellis.domains.campaigns.service import campaign_service

        registry = campaign_service.registry

        def _refs(type_: str) -> dict[str, str] | None:
            found = registry.get(type_)
            return None if found is None else dict(found.references)

        def _model(type_: str) -> type[BaseModel] | None:
            found = registry.get(type_)
            return None if found is None else found.config

        references = references or _refs
        models = models or _model
    if not is_mautic_export(entity_data):
        raise ValidationFailed(
            "entity_data.json is not a Mautic campaign export (no list of campaigns).",
            [FieldError("/campaign", "Expected a list of campaigns.", "missing", parameter="file")],
        )
    translator = _Translator(entity_data, asset_files, references, _normaliser(references, models))
    translator.run()
    campaigns = [e["uuid"] for e in translator.entities.get("campaign", [])]
    try:
        manifest = Manifest.model_validate(
            {
                "format_version": FORMAT_VERSION,
                "trellis_version": EXPORTED_BY,
                "exported_at": (exported_at or datetime.now(UTC)).isoformat(),
                "campaigns": campaigns,
                "entities": translator.entities,
                "warnings": [],
            }
        )
    except ValidationError as exc:
        raise ValidationFailed(
            "The Mautic export does not translate into a valid file; see errors.",
            [
                FieldError(_origin(translator.origins, err["loc"]), err["msg"], err["type"], "file")
                for err in exc.errors()
            ],
        ) from None
    return Translation(manifest, translator.files, translator.notes, translator.origins)


def _origin(origins: Mapping[str, str], loc: tuple[Any, ...]) -> str:
    pointer = json_pointer(*loc)
    for prefix, source in origins.items():
        if pointer == prefix or pointer.startswith(prefix + "/"):
            return source
    return pointer


def source_pointer(origins: Mapping[str, str], pointer: str) -> str:
    """A pointer into the translated manifest, as the pointer of the Mautic record it came
    from (with the rest of the path in our document after a ``#``)."""
    for prefix, source in origins.items():
        head = prefix + "/data"
        if pointer == prefix or pointer.startswith(prefix + "/"):
            rest = pointer[len(head) :] if pointer.startswith(head) else ""
            return source + (f"#{rest}" if rest else "")
    return pointer
