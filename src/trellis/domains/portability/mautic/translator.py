"""The translator's plumbing: the records read from the export, errors and notes pointing
into it, references between records, and the entities it builds."""

from __future__ import annotations

import json
import uuid as uuid_module
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from trellis import json_limits
from trellis.domains.portability.mautic.reading import (
    _ALIAS,
    _CRUFT,
    _NAMESPACE,
    _UUID,
    CORE_ALIASES,
    FIELD_TYPES,
    KNOWN_KEYS,
    OUR_CORE,
    RECORD_KEYS,
    UNSUPPORTED_RECORDS,
    Note,
    Untranslatable,
    _int,
    _root,
    _text,
)
from trellis.errors import FieldError, ValidationFailed, json_pointer

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


class TranslatorCore:
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

    def at(self, event: _Event, key: str) -> str:
        return f"{event.record.pointer}/properties/{key}"
