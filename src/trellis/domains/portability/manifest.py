"""The export file: a ZIP holding ``manifest.json`` (and, for kinds that have them, the files
themselves under ``files/``).

The manifest lists entities by kind, each keyed by a uuid; every reference inside an entity's
document (a segment in a filter, an email in a step, a form in a source) names the referenced
entity by its uuid, and custom fields are named by their alias. docs/portability.md explains
the format, docs/portability/manifest.schema.json is its JSON Schema (``manifest_schema()``).

Reading is defensive: the archive's members are counted, their names checked (no absolute
paths, no ``..``), their declared and real sizes bounded, and the manifest validated before
anything is looked up in the database.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from trellis import json_limits
from trellis.errors import FieldError, ValidationFailed, json_pointer

FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
FILES_PREFIX = "files/"

# Limits of an uploaded archive (module constants: tests lower them).
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_MEMBERS = 500
MAX_TOTAL_UNCOMPRESSED = 200 * 1024 * 1024
MAX_MANIFEST_BYTES = 20 * 1024 * 1024
MAX_RATIO = 200
RATIO_FLOOR = 64 * 1024  # members smaller than this are not held to the ratio

# The kinds in the order an import creates them: everything a kind refers to comes earlier,
# except the references written in the second pass (segments naming segments, forms naming
# campaigns, campaigns naming campaigns).
KIND_ORDER: tuple[str, ...] = (
    "project",
    "stage",
    "custom_field",
    "email",
    "segment",
    "form",
    "page",
    "asset",
    "campaign",
)

Uuid = Annotated[
    str,
    StringConstraints(
        pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
        r"[0-9a-fA-F]{12}$"
    ),
]
KindKey = Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}$")]


class ManifestEntity(BaseModel):
    model_config = ConfigDict(extra="forbid")

    uuid: Uuid = Field(description="The entity's stable key; references name it.")
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="Its name (the alias for a custom field): how an import recognises an "
        "existing entity when the uuid is unknown."
    )
    data: dict[str, Any] = Field(
        description="The entity's document, as the API's create request takes it, with every "
        "reference to another entity replaced by that entity's uuid."
    )


class Manifest(BaseModel):
    """A Trellis campaign export."""

    model_config = ConfigDict(extra="forbid", title="Trellis campaign export manifest")

    format_version: int = Field(ge=1, description="1 for this format.")
    trellis_version: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    exported_at: datetime
    campaigns: Annotated[list[Uuid], Field(min_length=1, max_length=500)] = Field(
        description="The campaigns that were chosen for export (the rest are dependencies)."
    )
    entities: dict[KindKey, Annotated[list[ManifestEntity], Field(max_length=5000)]] = Field(
        description="Entities by kind: " + ", ".join(KIND_ORDER) + "."
    )
    warnings: list[str] = Field(
        default_factory=list,
        description="What the export left out, e.g. references to users, which are not exported.",
    )


def manifest_schema() -> dict[str, Any]:
    schema = Manifest.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://trellis.example/schemas/portability/manifest-1.json"
    return schema


# -- writing and reading the archive ---------------------------------------------------------


def write_archive(manifest: Manifest, files: Mapping[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            MANIFEST_NAME, json.dumps(manifest.model_dump(mode="json"), indent=2, sort_keys=True)
        )
        for name, data in sorted((files or {}).items()):
            archive.writestr(FILES_PREFIX + name, data)
    return buffer.getvalue()


def _refuse(detail: str, code: str, pointer: str = "") -> ValidationFailed:
    return ValidationFailed(detail, [FieldError(pointer, detail, code, parameter="file")])


_DRIVE = re.compile(r"^[A-Za-z]:")


def _safe_name(name: str) -> bool:
    if not name or "\\" in name or "\x00" in name or name.startswith("/") or _DRIVE.match(name):
        return False
    return all(part not in ("..", "") for part in name.rstrip("/").split("/"))


@dataclass
class Archive:
    manifest: Manifest
    files: dict[str, bytes] = field(default_factory=dict)
    # "mautic" for a Mautic export translated into a manifest (the mautic package).
    source: str = "trellis"
    # The translation report: what of a Mautic export was not carried over.
    notes: list[dict[str, str]] = field(default_factory=list)
    # A translated manifest's entity pointers -> the Mautic records they came from.
    origins: dict[str, str] = field(default_factory=dict)


def _looks_like_json(data: bytes) -> bool:
    return data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[")


def _mautic_archive(
    raw: bytes, assets: Mapping[str, bytes], exported_at: datetime | None
) -> Archive:
    from trellis.domains.portability import mautic

    try:
        document = json_limits.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _refuse(f"{mautic.DATA_NAME} is not valid JSON: {exc}", "invalid_json") from None
    translation = mautic.translate(document, assets, exported_at=exported_at)
    return Archive(
        manifest=translation.manifest,
        files=translation.files,
        source="mautic",
        notes=[note.as_dict() for note in translation.notes],
        origins=translation.origins,
    )


def read_archive(data: bytes) -> Archive:
    """The validated manifest of an export file (ours, or a Mautic campaign export translated
    into one); raises ValidationFailed (nothing else) for a file that is not one."""
    if len(data) > MAX_UPLOAD_BYTES:
        from trellis.errors import PayloadTooLarge

        raise PayloadTooLarge(f"The file is larger than {MAX_UPLOAD_BYTES} bytes.")
    if _looks_like_json(data):
        # A bare entity_data.json (Mautic's JSON export, without assets).
        from trellis.domains.portability import mautic

        if len(data) > MAX_MANIFEST_BYTES:
            raise _refuse(f"The file is larger than {MAX_MANIFEST_BYTES} bytes.", "too_large")
        try:
            document = json_limits.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise _refuse(f"The file is not valid JSON: {exc}", "invalid_json") from None
        if not mautic.is_mautic_export(document):
            raise _refuse(
                "The file is JSON but not a Mautic campaign export; upload an export ZIP.",
                "not_a_zip",
            )
        return _mautic_archive(data, {}, None)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise _refuse("The file is not a ZIP archive, or it is truncated.", "not_a_zip") from None
    if len(members) > MAX_MEMBERS:
        raise _refuse(f"The archive has more than {MAX_MEMBERS} members.", "too_many_members")
    total = 0
    for member in members:
        if not _safe_name(member.filename):
            raise _refuse(
                f"The archive member name {member.filename!r} is not allowed "
                "(absolute path or '..').",
                "unsafe_path",
            )
        total += member.file_size
        if total > MAX_TOTAL_UNCOMPRESSED:
            raise _refuse(
                f"The archive unpacks to more than {MAX_TOTAL_UNCOMPRESSED} bytes.", "too_large"
            )
        if member.file_size > RATIO_FLOOR and member.file_size > MAX_RATIO * max(
            member.compress_size, 1
        ):
            raise _refuse(
                f"The archive member {member.filename!r} is compressed more than {MAX_RATIO} "
                "times: refused as a possible ZIP bomb.",
                "compression_ratio",
            )
    names = {m.filename: m for m in members}
    if MANIFEST_NAME not in names:
        mautic_data = _mautic_member(names)
        if mautic_data is None:
            raise _refuse(
                "The archive has no manifest.json (nor a Mautic entity_data.json).", "no_manifest"
            )
        return _read_mautic(archive, names, mautic_data)
    if names[MANIFEST_NAME].file_size > MAX_MANIFEST_BYTES:
        raise _refuse(f"manifest.json is larger than {MAX_MANIFEST_BYTES} bytes.", "too_large")
    files: dict[str, bytes] = {}
    try:
        raw = _read_bounded(archive, names[MANIFEST_NAME], MAX_MANIFEST_BYTES)
        for name, member in names.items():
            if name.startswith(FILES_PREFIX) and not member.is_dir():
                files[name[len(FILES_PREFIX) :]] = _read_bounded(archive, member, member.file_size)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError, NotImplementedError):
        raise _refuse(
            "The archive is damaged or truncated (a member cannot be read).", "not_a_zip"
        ) from None
    try:
        document = json_limits.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _refuse(f"manifest.json is not valid JSON: {exc}", "invalid_json") from None
    return Archive(manifest=parse_manifest(document), files=files)


def _mautic_member(names: Mapping[str, zipfile.ZipInfo]) -> str | None:
    """entity_data.json at the root, or in the archive's one top-level folder."""
    from trellis.domains.portability.mautic import DATA_NAME

    if DATA_NAME in names:
        return DATA_NAME
    found = [n for n in names if n.endswith("/" + DATA_NAME) and n.count("/") == 1]
    return found[0] if len(found) == 1 else None


def _read_mautic(
    archive: zipfile.ZipFile, names: Mapping[str, zipfile.ZipInfo], data_name: str
) -> Archive:
    from trellis.domains.portability.mautic import ASSETS_PREFIX

    folder = data_name[: -len("entity_data.json")]
    member = names[data_name]
    if member.file_size > MAX_MANIFEST_BYTES:
        raise _refuse(f"{data_name} is larger than {MAX_MANIFEST_BYTES} bytes.", "too_large")
    assets: dict[str, bytes] = {}
    prefix = folder + ASSETS_PREFIX
    try:
        raw = _read_bounded(archive, member, MAX_MANIFEST_BYTES)
        for name, item in names.items():
            if name.startswith(prefix) and not item.is_dir():
                assets[name[len(prefix) :]] = _read_bounded(archive, item, item.file_size)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError, NotImplementedError):
        raise _refuse(
            "The archive is damaged or truncated (a member cannot be read).", "not_a_zip"
        ) from None
    try:
        exported_at: datetime | None = datetime(*member.date_time, tzinfo=UTC)
    except ValueError:
        exported_at = None
    return _mautic_archive(raw, assets, exported_at)


def _read_bounded(archive: zipfile.ZipFile, member: zipfile.ZipInfo, limit: int) -> bytes:
    """Read a member, never more than ``limit`` bytes whatever its header claims."""
    with archive.open(member) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ValueError("member larger than declared")
    return data


def parse_manifest(document: Any) -> Manifest:
    if isinstance(document, dict):
        version = document.get("format_version")
        if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
            detail = (
                f"The file uses format version {version}; this Trellis reads version "
                f"{FORMAT_VERSION} and earlier. Upgrade Trellis to import it."
            )
            raise ValidationFailed(
                detail, [FieldError("/format_version", detail, "unsupported_version")]
            )
    try:
        return Manifest.model_validate(document)
    except ValidationError as exc:
        raise ValidationFailed(
            "manifest.json does not follow the manifest schema; see errors.",
            [
                FieldError(json_pointer(*err["loc"]), err["msg"], err["type"])
                for err in exc.errors()
            ],
        ) from None


# -- references ------------------------------------------------------------------------------

DROP = object()
# (kind of the referenced entity, value, JSON pointer) -> the new value, or DROP to remove it.
Rewrite = Callable[[str, Any, str], Any]

# Segment filter types whose value is a list of ids, and what they name.
FILTER_LIST_REFS: dict[str, str] = {
    "segment": "segment",
    "stage": "stage",
    "owner": "user",
    "campaign": "campaign",
    "email_opened": "email",
    "email_clicked": "email",
    "form_submitted": "form",
}
# Form submit actions: config field -> kind.
FORM_ACTION_REFS: dict[str, dict[str, str]] = {
    "segments.add": {"segments": "segment"},
    "segments.remove": {"segments": "segment"},
    "email.send_to_contact": {"email_id": "email"},
    "email.send_to_users": {"email_id": "email", "user_ids": "user"},
    "campaigns.add": {"campaigns": "campaign"},
}


def _is_ref(kind: str, value: Any) -> bool:
    if isinstance(value, bool) or value is None:
        return False
    return not (kind == "campaign" and value == "this")


def rewrite_value(value: Any, kind: str, pointer: str, fn: Rewrite) -> Any:
    if isinstance(value, list):
        out = []
        for index, item in enumerate(value):
            if not _is_ref(kind, item):
                out.append(item)
                continue
            new = fn(kind, item, f"{pointer}/{index}")
            if new is not DROP:
                out.append(new)
        return out
    if not _is_ref(kind, value):
        return value
    new = fn(kind, value, pointer)
    return None if new is DROP else new


def rewrite_filters(document: Any, fn: Rewrite, pointer: str) -> Any:
    """A segment filter document (a group of conditions and nested groups)."""
    if not isinstance(document, dict) or not isinstance(document.get("conditions"), list):
        return document
    conditions = []
    for index, item in enumerate(document["conditions"]):
        at = f"{pointer}/conditions/{index}"
        if not isinstance(item, dict):
            conditions.append(item)
            continue
        item = dict(item)
        if "conditions" in item:
            conditions.append(rewrite_filters(item, fn, at))
            continue
        kind = str(item.get("type"))
        if kind in FILTER_LIST_REFS and isinstance(item.get("value"), list):
            item["value"] = rewrite_value(item["value"], FILTER_LIST_REFS[kind], f"{at}/value", fn)
        elif kind == "form_submitted_value" and isinstance(item.get("value"), dict):
            value = dict(item["value"])
            value["form_id"] = rewrite_value(
                value.get("form_id"), "form", f"{at}/value/form_id", fn
            )
            item["value"] = value
        elif kind == "custom_field" and isinstance(item.get("field"), str):
            fn("custom_field", item["field"], f"{at}/field")
        conditions.append(item)
    return {**document, "conditions": conditions}


def _projects(data: dict[str, Any], fn: Rewrite, pointer: str) -> None:
    if isinstance(data.get("projects"), list):
        data["projects"] = rewrite_value(data["projects"], "project", f"{pointer}/projects", fn)


def rewrite_segment(data: dict[str, Any], fn: Rewrite, pointer: str) -> dict[str, Any]:
    data = dict(data)
    _projects(data, fn, pointer)
    if "filters" in data:
        data["filters"] = rewrite_filters(data["filters"], fn, f"{pointer}/filters")
    return data


def rewrite_plain(data: dict[str, Any], fn: Rewrite, pointer: str) -> dict[str, Any]:
    data = dict(data)
    _projects(data, fn, pointer)
    return data


def rewrite_asset(data: dict[str, Any], fn: Rewrite, pointer: str) -> dict[str, Any]:
    data = dict(data)
    _projects(data, fn, pointer)
    if "gate_form_id" in data:
        data["gate_form_id"] = rewrite_value(
            data["gate_form_id"], "form", f"{pointer}/gate_form_id", fn
        )
    return data


def rewrite_form(data: dict[str, Any], fn: Rewrite, pointer: str) -> dict[str, Any]:
    data = dict(data)
    _projects(data, fn, pointer)
    for index, item in enumerate(data.get("fields") or []):
        if isinstance(item, dict) and isinstance(item.get("contact_field"), str):
            fn("custom_field", item["contact_field"], f"{pointer}/fields/{index}/contact_field")
    actions = []
    for index, action in enumerate(data.get("actions") or []):
        refs = FORM_ACTION_REFS.get(str(action.get("type"))) if isinstance(action, dict) else None
        if not refs or not isinstance(action.get("config"), dict):
            actions.append(action)
            continue
        config = dict(action["config"])
        for name, kind in refs.items():
            if name in config:
                config[name] = rewrite_value(
                    config[name], kind, f"{pointer}/actions/{index}/config/{name}", fn
                )
        actions.append({**action, "config": config})
    if "actions" in data:
        data["actions"] = actions
    return data


def rewrite_campaign(
    data: dict[str, Any],
    fn: Rewrite,
    pointer: str,
    references: Callable[[str], dict[str, str] | None],
) -> dict[str, Any]:
    """``references(type)``: the config fields of an event type that name other entities
    (None for a type this instance does not know)."""
    data = dict(data)
    _projects(data, fn, pointer)
    sources = []
    for index, source in enumerate(data.get("sources") or []):
        if isinstance(source, dict) and source.get("kind") in ("segment", "form"):
            source = {
                **source,
                "id": rewrite_value(
                    source.get("id"), source["kind"], f"{pointer}/sources/{index}/id", fn
                ),
            }
        sources.append(source)
    if "sources" in data:
        data["sources"] = sources
    events = []
    for index, event in enumerate(data.get("events") or []):
        if not isinstance(event, dict):
            events.append(event)
            continue
        at = f"{pointer}/events/{index}"
        event = dict(event)
        config = dict(event.get("config") or {})
        kind_of = str(event.get("type"))
        for name, kind in (references(kind_of) or {}).items():
            if name in config:
                config[name] = rewrite_value(config[name], kind, f"{at}/config/{name}", fn)
        if kind_of == "condition.group" and "filters" in config:
            config["filters"] = rewrite_filters(config["filters"], fn, f"{at}/config/filters")
        elif kind_of == "contact.field_value" and isinstance(config.get("field"), str):
            fn("custom_field", config["field"], f"{at}/config/field")
        elif kind_of == "contact.update_fields" and isinstance(config.get("values"), dict):
            for alias in config["values"]:
                fn("custom_field", alias, f"{at}/config/values/{alias}")
        timing = event.get("timing")
        if isinstance(timing, dict) and isinstance(timing.get("field"), str):
            fn("custom_field", timing["field"], f"{at}/timing/field")
        event["config"] = config
        events.append(event)
    if "events" in data:
        data["events"] = events
    return data


def entity_pointer(kind: str, index: int, *rest: str | int) -> str:
    return json_pointer("entities", kind, index, "data", *rest)


def all_entities(manifest: Manifest) -> Iterable[tuple[str, int, ManifestEntity]]:
    for kind in KIND_ORDER:
        for index, entity in enumerate(manifest.entities.get(kind, [])):
            yield kind, index, entity
