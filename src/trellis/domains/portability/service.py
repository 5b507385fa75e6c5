"""Campaign export and import.

Export walks from the chosen campaigns to everything they reference, transitively, reads each
entity through its own domain's service (so permissions apply) as the document its create
request takes, and replaces every reference by the referenced entity's uuid.

Import validates the whole file first (archive limits, the manifest schema, every reference
present in the file, every event type known, every document valid), then matches each entity
against this instance (by uuid, then by name) and, in one transaction, creates, updates, copies
or reuses each one as chosen, mapping every uuid back to this instance's ids. Entities are
written in two passes: first without the references that may point forward (segment filters,
form actions, campaign graphs), then those references.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from trellis import __version__
from trellis.actor import Actor, Perm
from trellis.db.models import CampaignImport
from trellis.domains.audit.service import AuditAction, audit
from trellis.domains.campaigns.service import campaign_service
from trellis.domains.portability.kinds import (
    KINDS,
    Kind,
    event_references,
    is_exported,
    references_in,
    with_pointer,
)
from trellis.domains.portability.manifest import (
    DROP,
    FORMAT_VERSION,
    KIND_ORDER,
    Archive,
    Manifest,
    ManifestEntity,
    Rewrite,
    all_entities,
    entity_pointer,
    write_archive,
)
from trellis.domains.portability.mautic import source_pointer
from trellis.domains.portability.repository import PortabilityRepository
from trellis.domains.portability.schemas import (
    CampaignImportRead,
    Choice,
    EntityAnalysis,
    ImportAnalysis,
    ImportResult,
    TranslationNote,
)
from trellis.errors import Conflict, DomainError, FieldError, NotFound, ValidationFailed

# -- the service --------------------------------------------------------------------------------


@dataclass
class _Applied:
    """What an import has done so far: the id each uuid of the file maps to, by kind, what
    was created, updated and reused, and the updates left for the second pass."""

    ids: dict[str, dict[str, int]] = field(default_factory=lambda: {k: {} for k in KIND_ORDER})
    created: defaultdict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    updated: defaultdict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    reused: defaultdict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    later: list[tuple[Kind, int, ManifestEntity, int, bool]] = field(default_factory=list)

    def to_id(self, ref_kind: str, value: Any, pointer: str) -> Any:
        if ref_kind == "custom_field":
            return value
        return self.ids[ref_kind].get(value, DROP)


def _choice_problems(analysis: ImportAnalysis, choices: Mapping[str, Choice]) -> list[FieldError]:
    """Choices for entities the file has, each one the analysis offers for it."""
    known = {a.uuid for a in analysis.entities}
    errors = []
    for uuid, choice in choices.items():
        if uuid not in known:
            errors.append(
                FieldError(
                    f"/choices/{uuid}",
                    "No entity with this uuid in the file.",
                    "not_found",
                    parameter="choices",
                )
            )
        elif not any(choice in a.choices for a in analysis.entities if a.uuid == uuid):
            errors.append(
                FieldError(
                    f"/choices/{uuid}",
                    f"{choice!r} is not allowed here.",
                    "not_allowed",
                    parameter="choices",
                )
            )
    return errors


class PortabilityService:
    # -- export ---------------------------------------------------------------------------

    async def _export_entity(
        self, session: AsyncSession, kind_key: str, id_: int, actor: Actor, warnings: set[str]
    ) -> tuple[str, dict[str, Any], list[tuple[str, int]]]:
        """An entity's name and document with references as uuids, and what it references."""
        kind = KINDS[kind_key]
        name, data = await kind.read(session, id_, actor)
        repo = PortabilityRepository(session)
        wanted: dict[str, set[Any]] = defaultdict(set)
        for ref_kind, value in references_in(data, kind):
            wanted[ref_kind].add(value)
        uuids: dict[str, dict[Any, str]] = {}
        deps: list[tuple[str, int]] = []
        for ref_kind, values in wanted.items():
            if not is_exported(ref_kind):
                continue
            if ref_kind == "custom_field":
                found = await repo.custom_fields_by_alias([v for v in values if isinstance(v, str)])
                deps.extend(("custom_field", i) for i in found.values())
                continue
            ids = [v for v in values if isinstance(v, int)]
            uuids[ref_kind] = dict(await repo.uuids(ref_kind, ids))
            deps.extend((ref_kind, i) for i in uuids[ref_kind])

        def to_uuid(ref_kind: str, value: Any, pointer: str) -> Any:
            if ref_kind == "custom_field":
                return value
            if not is_exported(ref_kind):
                warnings.add(
                    f"{kind_key} {name!r}: a reference to a {ref_kind} ({pointer}) is not "
                    f"exported ({ref_kind}s are not part of an export)."
                )
                return DROP
            found = uuids.get(ref_kind, {}).get(value)
            if found is None:
                warnings.add(f"{kind_key} {name!r}: {ref_kind} {value} no longer exists.")
                return DROP
            return found

        return name, kind.rewrite(data, to_uuid, ""), deps

    async def export(
        self, session: AsyncSession, campaign_ids: list[int], *, actor: Actor, now: datetime
    ) -> tuple[Manifest, bytes]:
        repo = PortabilityRepository(session)
        warnings: set[str] = set()
        entities: dict[str, dict[int, ManifestEntity]] = {k: {} for k in KIND_ORDER}
        queue: list[tuple[str, int]] = [("campaign", i) for i in dict.fromkeys(campaign_ids)]
        roots: list[str] = []
        files: dict[str, bytes] = {}
        while queue:
            kind_key, id_ = queue.pop(0)
            if id_ in entities[kind_key]:
                continue
            name, data, deps = await self._export_entity(session, kind_key, id_, actor, warnings)
            uuid = (await repo.uuids(kind_key, [id_]))[id_]
            entities[kind_key][id_] = ManifestEntity(uuid=uuid, name=name, data=data)
            attachments = KINDS[kind_key].attachments
            if attachments is not None:
                files.update(await attachments(session, id_, actor))
            queue.extend(d for d in deps if d[1] not in entities[d[0]])
        for id_ in dict.fromkeys(campaign_ids):
            roots.append(entities["campaign"][id_].uuid)
        manifest = Manifest(
            format_version=FORMAT_VERSION,
            trellis_version=__version__,
            exported_at=now,
            campaigns=roots,
            entities={
                k: sorted(v.values(), key=lambda e: e.uuid) for k, v in entities.items() if v
            },
            warnings=sorted(warnings),
        )
        for id_ in dict.fromkeys(campaign_ids):
            await audit.record(
                session,
                actor=actor,
                action=AuditAction.EXPORT,
                entity_type="campaign",
                entity_id=id_,
                entity_name=entities["campaign"][id_].name,
                changes={"entities": {k: len(v) for k, v in manifest.entities.items()}},
                now=now,
            )
        return manifest, write_archive(manifest, files)

    # -- import: validation and analysis -------------------------------------------------

    def check(self, manifest: Manifest, files: Mapping[str, bytes]) -> None:
        """Everything about the file that needs no database: known kinds, unique uuids,
        references present in the file, known event types, valid documents."""
        errors: list[FieldError] = []
        for kind_name in manifest.entities:
            if kind_name not in KINDS:
                errors.append(
                    FieldError(
                        f"/entities/{kind_name}", f"Unknown entity kind {kind_name!r}.", "unknown"
                    )
                )
        present: dict[str, set[str]] = {k: set() for k in KINDS}
        for kind_name, index, entity in all_entities(manifest):
            if entity.uuid in present[kind_name]:
                errors.append(
                    FieldError(
                        f"/entities/{kind_name}/{index}/uuid",
                        "Two entities have this uuid.",
                        "duplicate",
                    )
                )
            present[kind_name].add(entity.uuid)
        for index, uuid in enumerate(manifest.campaigns):
            if uuid not in present["campaign"]:
                errors.append(
                    FieldError(
                        f"/campaigns/{index}",
                        "No campaign with this uuid in the file.",
                        "missing_reference",
                    )
                )
        unknown_types: dict[str, str] = {}
        for kind_key, index, entity in all_entities(manifest):
            kind = KINDS[kind_key]
            base = entity_pointer(kind_key, index)

            def placeholder(ref_kind: str, value: Any, pointer: str, base: str = base) -> Any:
                if not is_exported(ref_kind) or not isinstance(value, str):
                    errors.append(
                        FieldError(
                            base + pointer,
                            f"Expected the uuid of a {ref_kind}.",
                            "invalid_reference",
                        )
                    )
                    return DROP
                if value not in present.get(ref_kind, set()):
                    errors.append(
                        FieldError(
                            base + pointer,
                            f"No {ref_kind} with uuid {value} in the file.",
                            "missing_reference",
                        )
                    )
                    return DROP
                return 1

            try:
                data = kind.rewrite(entity.data, _placeholder_fn(placeholder), "")
            except (TypeError, AttributeError):
                errors.append(FieldError(base, "Not a valid document.", "invalid"))
                continue
            if kind_key == "asset":
                problem = _asset_file_problem(data, files)
                if problem:
                    errors.append(FieldError(f"{base}/file", problem, "missing_file"))
            if kind_key == "campaign":
                for e_index, event in enumerate(data.get("events") or []):
                    event_type = event.get("type") if isinstance(event, dict) else None
                    if isinstance(event_type, str) and event_references(event_type) is None:
                        unknown_types.setdefault(event_type, f"{base}/events/{e_index}/type")
            try:
                kind.create_model.model_validate(data)
            except ValidationError as exc:
                for err in exc.errors():
                    loc = "".join(f"/{part}" for part in err["loc"])
                    errors.append(FieldError(base + loc, err["msg"], err["type"]))
        if unknown_types:
            names = sorted(unknown_types)
            raise ValidationFailed(
                "The file uses event types this instance does not know: " + ", ".join(names),
                [
                    FieldError(pointer, f"Unknown event type {name!r}.", "unknown_type")
                    for name, pointer in sorted(unknown_types.items())
                ],
                extra={"unknown_event_types": names},
            )
        if errors:
            raise ValidationFailed("The file's manifest has problems; see errors.", errors)

    async def analyse(
        self, session: AsyncSession, archive: Archive, *, actor: Actor
    ) -> ImportAnalysis:
        actor.require("campaigns", Perm.CREATE)
        manifest = archive.manifest
        try:
            self.check(manifest, archive.files)
        except DomainError as exc:
            raise _in_source(exc, archive) from None
        repo = PortabilityRepository(session)
        items: list[EntityAnalysis] = []
        for kind_key in KIND_ORDER:
            kind = KINDS[kind_key]
            listed = manifest.entities.get(kind_key, [])
            by_uuid = await repo.ids_by_uuid(kind_key, [e.uuid for e in listed])
            by_name = await repo.ids_by_name(kind_key, [e.name for e in listed])
            for entity in listed:
                match: Literal["uuid", "name"] | None = None
                existing = by_uuid.get(entity.uuid)
                if existing is not None:
                    match = "uuid"
                elif entity.name in by_name:
                    existing, match = by_name[entity.name], "name"
                if existing is None:
                    items.append(
                        EntityAnalysis(
                            kind=kind_key,
                            uuid=entity.uuid,
                            name=entity.name,
                            status="new",
                            choices=["create"],
                            default="create",
                        )
                    )
                    continue
                _, current, _ = await self._export_entity(session, kind_key, existing, actor, set())
                same = current == entity.data
                choices: list[Choice] = ["reuse", "update"]
                if kind.copyable:
                    choices.append("copy")
                if same:
                    default: Choice = "reuse"
                elif kind_key in ("custom_field", "stage", "project") or not kind.copyable:
                    default = "reuse"
                else:
                    default = "copy"
                items.append(
                    EntityAnalysis(
                        kind=kind_key,
                        uuid=entity.uuid,
                        name=entity.name,
                        status="identical" if same else "conflicting",
                        match=match,
                        existing_id=existing,
                        choices=choices,
                        default=default,
                    )
                )
        return ImportAnalysis(
            format_version=manifest.format_version,
            trellis_version=manifest.trellis_version,
            exported_at=manifest.exported_at,
            campaigns=manifest.campaigns,
            entities=items,
            warnings=manifest.warnings,
            source="mautic" if archive.source == "mautic" else "trellis",
            notes=[TranslationNote.model_validate(n) for n in archive.notes],
        )

    # -- import: apply -------------------------------------------------------------------

    async def apply(
        self,
        session: AsyncSession,
        archive: Archive,
        *,
        choices: Mapping[str, Choice],
        filename: str,
        actor: Actor,
        now: datetime,
    ) -> ImportResult:
        try:
            return await self._apply(
                session, archive, choices=choices, filename=filename, actor=actor, now=now
            )
        except DomainError as exc:
            raise _in_source(exc, archive) from None

    async def _apply(
        self,
        session: AsyncSession,
        archive: Archive,
        *,
        choices: Mapping[str, Choice],
        filename: str,
        actor: Actor,
        now: datetime,
    ) -> ImportResult:
        analysis = await self.analyse(session, archive, actor=actor)
        errors = _choice_problems(analysis, choices)
        if errors:
            raise ValidationFailed("Some choices are not valid; see errors.", errors)
        manifest = archive.manifest
        planned = {(a.kind, a.uuid): a for a in analysis.entities}
        repo = PortabilityRepository(session)
        applied = _Applied()
        for kind_key, index, entity in all_entities(manifest):
            kind = KINDS[kind_key]
            plan = planned[(kind_key, entity.uuid)]
            choice = choices.get(entity.uuid, plan.default)
            if choice in ("reuse", "update"):
                assert plan.existing_id is not None
                applied.ids[kind_key][entity.uuid] = plan.existing_id
                if choice == "reuse":
                    applied.reused[kind_key].append(plan.existing_id)
                else:
                    applied.updated[kind_key].append(plan.existing_id)
                    applied.later.append((kind, index, entity, plan.existing_id, True))
                continue
            new_id = await self._create(
                session,
                repo,
                kind,
                entity,
                entity_pointer(kind_key, index),
                applied,
                copy=choice == "copy" or plan.status != "new",
                archive=archive,
                actor=actor,
                now=now,
            )
            if plan.status == "new":
                await repo.set_uuid(kind_key, new_id, entity.uuid)
            applied.ids[kind_key][entity.uuid] = new_id
            applied.created[kind_key].append(new_id)
            if kind.deferred:
                applied.later.append((kind, index, entity, new_id, False))
        await self._second_pass(session, applied, actor=actor, now=now)

        campaign_ids = [applied.ids["campaign"][u] for u in manifest.campaigns]
        for campaign_id in applied.updated.get("campaign", []):
            campaign = await campaign_service.get(session, campaign_id, actor=actor)
            if campaign.is_published:
                await campaign_service.set_published(
                    session, campaign_id, published=False, actor=actor, now=now
                )
        record = await self._record(
            session, repo, archive, applied, campaign_ids, filename=filename, actor=actor, now=now
        )
        return ImportResult(
            source=analysis.source,
            notes=analysis.notes,
            import_id=record.id,
            campaign_ids=campaign_ids,
            created=dict(applied.created),
            updated=dict(applied.updated),
            reused=dict(applied.reused),
        )

    async def _create(
        self,
        session: AsyncSession,
        repo: PortabilityRepository,
        kind: Kind,
        entity: ManifestEntity,
        base: str,
        applied: _Applied,
        *,
        copy: bool,
        archive: Archive,
        actor: Actor,
        now: datetime,
    ) -> int:
        """One entity of the file created, with the references it can hold already (the
        deferred ones come in the second pass)."""
        data = kind.rewrite({**entity.data, **kind.deferred}, applied.to_id, "")
        if copy:
            data = await self._free_name(repo, kind, data)
        elif (
            kind.alias
            and data.get(kind.alias)
            and await repo.alias_taken(kind.key, kind.alias, data[kind.alias])
        ):
            data[kind.alias] = None
        try:
            return await kind.create(
                session, kind.create_model.model_validate(data), actor, now, archive.files
            )
        except DomainError as exc:
            raise with_pointer(exc, base) from None
        except ValidationError as exc:
            raise _invalid_here(exc, base) from None

    async def _second_pass(
        self, session: AsyncSession, applied: _Applied, *, actor: Actor, now: datetime
    ) -> None:
        """Updates once every entity exists: the references that could not be made on
        creation, and the entities the import updates."""
        for kind, index, entity, target, whole in applied.later:
            base = entity_pointer(kind.key, index)
            data = kind.rewrite(dict(entity.data), applied.to_id, "")
            if not whole and kind.key != "campaign":
                # A created segment or form: only what the first pass left out. (A campaign is
                # saved whole: its document is one unit.)
                data = {k: data[k] for k in kind.deferred if k in data}
            elif whole:
                fields = kind.update_model.model_fields
                data = {k: v for k, v in data.items() if k in fields and k != kind.alias}
            try:
                await kind.update(
                    session, target, kind.update_model.model_validate(data), actor, now
                )
            except DomainError as exc:
                raise with_pointer(exc, base) from None
            except ValidationError as exc:
                raise _invalid_here(exc, base) from None

    async def _record(
        self,
        session: AsyncSession,
        repo: PortabilityRepository,
        archive: Archive,
        applied: _Applied,
        campaign_ids: list[int],
        *,
        filename: str,
        actor: Actor,
        now: datetime,
    ) -> CampaignImport:
        """The import's record (what undo reads) and its audit entry."""
        summary: dict[str, Any] = {
            "created": dict(applied.created),
            "updated": dict(applied.updated),
            "reused": dict(applied.reused),
            "campaigns": campaign_ids,
        }
        if archive.source != "trellis":
            summary["source"] = archive.source
            summary["notes"] = archive.notes
        record = CampaignImport(
            filename=filename[:255],
            format_version=archive.manifest.format_version,
            exported_by=archive.manifest.trellis_version[:40],
            summary=summary,
            created_by_id=actor.user_id,
            created_at=now,
        )
        repo.add_import(record)
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action=AuditAction.IMPORT,
            entity_type="campaign_import",
            entity_id=record.id,
            entity_name=filename[:320],
            changes=summary,
            now=now,
        )
        return record

    async def _free_name(
        self, repo: PortabilityRepository, kind: Kind, data: dict[str, Any]
    ) -> dict[str, Any]:
        """A copy: a free alias (made from the name), and a free name where names are unique."""
        data = dict(data)
        if kind.alias:
            data[kind.alias] = None
        if kind.unique_name:
            base, n = str(data["name"]), 1
            while await repo.names_taken(kind.key, [data["name"]]):
                n += 1
                data["name"] = f"{base[:190]} ({n})"
        return data

    # -- import records and undo ---------------------------------------------------------

    def _read(self, record: CampaignImport) -> CampaignImportRead:
        summary = record.summary or {}
        return CampaignImportRead(
            id=record.id,
            filename=record.filename,
            format_version=record.format_version,
            exported_by=record.exported_by,
            created=summary.get("created", {}),
            updated=summary.get("updated", {}),
            reused=summary.get("reused", {}),
            campaign_ids=summary.get("campaigns", []),
            created_at=record.created_at,
            undone_at=record.undone_at,
        )

    async def get_import(
        self, session: AsyncSession, import_id: int, *, actor: Actor
    ) -> CampaignImportRead:
        actor.require("campaigns", Perm.CREATE)
        record = await PortabilityRepository(session).get_import(import_id)
        if record is None:
            raise NotFound(f"No import with id {import_id}.")
        return self._read(record)

    async def undo(
        self, session: AsyncSession, import_id: int, *, actor: Actor, now: datetime
    ) -> CampaignImportRead:
        actor.require("campaigns", Perm.CREATE)
        repo = PortabilityRepository(session)
        record = await repo.lock_import(import_id)
        if record is None:
            raise NotFound(f"No import with id {import_id}.")
        if record.undone_at is not None:
            raise Conflict("This import has been undone already.")
        created: dict[str, list[int]] = (record.summary or {}).get("created", {})
        used = await repo.used(created)
        if used:
            raise Conflict(
                "The import cannot be undone: what it created has been used ("
                + ", ".join(used)
                + ")."
            )
        # Campaigns go first; then the references between what remains (a segment's filters
        # naming another created segment, a form's actions) are cleared, so that each delete
        # finds nothing that still uses its entity.
        for id_ in created.get("campaign", []):
            await KINDS["campaign"].delete(session, id_, actor, now)
        for kind_key in ("segment", "form"):
            kind = KINDS[kind_key]
            for id_ in created.get(kind_key, []):
                await kind.update(
                    session, id_, kind.update_model.model_validate(kind.deferred), actor, now
                )
        for kind_key in reversed(KIND_ORDER[:-1]):
            for id_ in created.get(kind_key, []):
                await KINDS[kind_key].delete(session, id_, actor, now)
        record.undone_at = now
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action="import_undone",
            entity_type="campaign_import",
            entity_id=record.id,
            entity_name=record.filename,
            changes={"deleted": created},
            now=now,
        )
        return self._read(record)


def _in_source(exc: DomainError, archive: Archive) -> DomainError:
    """For a translated Mautic export: the errors' pointers into entity_data.json (the file the
    user has), instead of into the manifest they never saw."""
    if not archive.origins or not exc.errors:
        return exc
    errors = [
        FieldError(source_pointer(archive.origins, e.pointer), e.detail, e.code, e.parameter)
        for e in exc.errors
    ]
    return type(exc)(exc.detail, errors, exc.extra, exc.headers)


def _invalid_here(exc: ValidationError, base: str) -> ValidationFailed:
    return ValidationFailed(
        "An entity of the file is not valid here; see errors.",
        [
            FieldError(base + "".join(f"/{p}" for p in e["loc"]), e["msg"], e["type"])
            for e in exc.errors()
        ],
    )


def _asset_file_problem(data: Mapping[str, Any], files: Mapping[str, bytes]) -> str | None:
    name = data.get("file")
    if not isinstance(name, str) or name not in files:
        return f"The file files/{name} is not in the archive."
    if hashlib.sha256(files[name]).hexdigest() != data.get("sha256"):
        return f"The file files/{name} does not match its sha256."
    return None


def _placeholder_fn(fn: Rewrite) -> Rewrite:
    def wrapped(ref_kind: str, value: Any, pointer: str) -> Any:
        if ref_kind == "custom_field":
            return value
        return fn(ref_kind, value, pointer)

    return wrapped


portability_service = PortabilityService()
