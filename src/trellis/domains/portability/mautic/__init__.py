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

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from trellis.domains.campaigns.service import campaign_service
from trellis.domains.portability.manifest import FORMAT_VERSION, Manifest
from trellis.domains.portability.mautic.campaigns import MauticTranslator
from trellis.domains.portability.mautic.reading import (
    ASSETS_PREFIX,
    DATA_NAME,
    EXPORTED_BY,
    Note,
    Translation,
    Untranslatable,
    is_mautic_export,
)
from trellis.domains.portability.mautic.steps import normaliser
from trellis.errors import FieldError, ValidationFailed, json_pointer

__all__ = [
    "ASSETS_PREFIX",
    "DATA_NAME",
    "Note",
    "Translation",
    "Untranslatable",
    "is_mautic_export",
    "source_pointer",
    "translate",
]


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
    translator = MauticTranslator(
        entity_data, asset_files, references, normaliser(references, models)
    )
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
