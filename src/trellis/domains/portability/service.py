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

import asyncio
import hashlib
import io
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from trellis import __version__
from trellis.actor import Actor, Perm
from trellis.db.models import CampaignImport
from trellis.domains.assets.schemas import AssetMeta, AssetUpdate
from trellis.domains.assets.service import asset_service
from trellis.domains.audit.service import AuditAction, audit
from trellis.domains.campaigns.schemas import CampaignSave, CampaignWrite, EventDoc
from trellis.domains.campaigns.service import campaign_service
from trellis.domains.emails.schemas import EmailCreate, EmailUpdate
from trellis.domains.emails.service import email_service
from trellis.domains.fields.schemas import FieldCreate, FieldRead, FieldUpdate
from trellis.domains.fields.service import field_service
from trellis.domains.forms.schemas import FormCreate, FormUpdate
from trellis.domains.forms.service import form_service
from trellis.domains.landing_pages.schemas import PageCreate, PageUpdate
from trellis.domains.landing_pages.service import page_service
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
    rewrite_asset,
    rewrite_campaign,
    rewrite_form,
    rewrite_plain,
    rewrite_segment,
    write_archive,
)
from trellis.domains.portability.mautic import source_pointer
from trellis.domains.portability.repository import PortabilityRepository
from trellis.domains.portability.schemas import (
    AssetDoc,
    CampaignImportRead,
    Choice,
    EntityAnalysis,
    ImportAnalysis,
    ImportResult,
    TranslationNote,
)
from trellis.domains.projects.schemas import ProjectCreate, ProjectRead, ProjectUpdate
from trellis.domains.projects.service import project_service
from trellis.domains.segments.schemas import EMPTY_FILTERS, SegmentCreate, SegmentUpdate
from trellis.domains.segments.service import segment_service
from trellis.domains.stages.schemas import StageCreate, StageRead, StageUpdate
from trellis.domains.stages.service import stage_service
from trellis.errors import Conflict, DomainError, FieldError, NotFound, ValidationFailed


def _exported(ref_kind: str) -> bool:
    """Users, companies (and kinds without an export yet) are left out of a file."""
    return ref_kind in KIND_ORDER


def _references(event_type: str) -> dict[str, str] | None:
    """What a step's config refers to (config key -> entity kind), as its type declares."""
    known = campaign_service.registry.get(event_type)
    if known is None:
        return None
    return dict(known.references)


def _project_ids(items: Any) -> list[int]:
    return [item if isinstance(item, int) else item.id for item in items or []]


def _doc(model: type[BaseModel], read: BaseModel, **extra: Any) -> dict[str, Any]:
    """The create document of an entity, from its read model."""
    values = read.model_dump(mode="json")
    values.update(extra)
    picked = {k: v for k, v in values.items() if k in model.model_fields}
    return model.model_validate(picked).model_dump(mode="json")


# -- the kinds ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """How one kind of entity is read, written and deleted through its own service."""

    key: str
    create_model: type[BaseModel]
    update_model: type[BaseModel]
    rewrite: Callable[[dict[str, Any], Rewrite, str], dict[str, Any]]
    read: Callable[[AsyncSession, int, Actor], Awaitable[tuple[str, dict[str, Any]]]]
    create: Callable[
        [AsyncSession, BaseModel, Actor, datetime, Mapping[str, bytes]], Awaitable[int]
    ]
    update: Callable[[AsyncSession, int, BaseModel, Actor, datetime], Awaitable[None]]
    delete: Callable[[AsyncSession, int, Actor, datetime], Awaitable[None]]
    # Keys written in the second pass of a created entity (they may name later entities).
    deferred: Mapping[str, Any]
    unique_name: bool = False
    copyable: bool = True
    # The unique URL name (alias, slug) a copy gives up for a free one made from the name.
    alias: str | None = None
    # Files that travel in the ZIP beside the manifest ({member name: bytes}).
    attachments: Callable[[AsyncSession, int, Actor], Awaitable[dict[str, bytes]]] | None = None


async def _read_campaign(
    session: AsyncSession, id_: int, actor: Actor
) -> tuple[str, dict[str, Any]]:
    read = await campaign_service.read(
        session, await campaign_service.get(session, id_, actor=actor)
    )
    data = _doc(
        CampaignWrite,
        read,
        events=[
            {k: v for k, v in e.model_dump(mode="json").items() if k in EventDoc.model_fields}
            for e in read.events
        ],
    )
    return read.name, data


async def _read_segment(
    session: AsyncSession, id_: int, actor: Actor
) -> tuple[str, dict[str, Any]]:
    read = await segment_service.read(session, await segment_service.get(session, id_, actor=actor))
    return read.name, _doc(SegmentCreate, read, projects=_project_ids(read.projects))


async def _read_email(session: AsyncSession, id_: int, actor: Actor) -> tuple[str, dict[str, Any]]:
    read = await email_service.read(session, await email_service.get(session, id_, actor=actor))
    return read.name, _doc(EmailCreate, read, projects=_project_ids(read.projects))


async def _read_form(session: AsyncSession, id_: int, actor: Actor) -> tuple[str, dict[str, Any]]:
    read = await form_service.read(session, await form_service.get(session, id_, actor=actor))
    return read.name, _doc(FormCreate, read, projects=_project_ids(read.projects))


async def _read_field(session: AsyncSession, id_: int, actor: Actor) -> tuple[str, dict[str, Any]]:
    read = FieldRead.model_validate(await field_service.get(session, id_, actor=actor))
    return read.alias, _doc(FieldCreate, read)


async def _read_stage(session: AsyncSession, id_: int, actor: Actor) -> tuple[str, dict[str, Any]]:
    read = StageRead.model_validate(await stage_service.get(session, id_, actor=actor))
    return read.name, _doc(StageCreate, read)


async def _read_project(
    session: AsyncSession, id_: int, actor: Actor
) -> tuple[str, dict[str, Any]]:
    read = ProjectRead.model_validate(await project_service.get(session, id_, actor=actor))
    return read.name, _doc(ProjectCreate, read)


Creator = Callable[[AsyncSession, BaseModel, Actor, datetime, Mapping[str, bytes]], Awaitable[int]]


def _creator(service: Any) -> Creator:
    async def create(
        session: AsyncSession,
        data: BaseModel,
        actor: Actor,
        now: datetime,
        files: Mapping[str, bytes],
    ) -> int:
        entity = await service.create(session, data=data, actor=actor, now=now)
        return int(entity.id)

    return create


def _updater(
    service: Any,
) -> Callable[[AsyncSession, int, BaseModel, Actor, datetime], Awaitable[None]]:
    async def update(
        session: AsyncSession, id_: int, data: BaseModel, actor: Actor, now: datetime
    ) -> None:
        await service.update(session, id_, data=data, actor=actor, now=now, expected_version=None)

    return update


def _deleter(service: Any) -> Callable[[AsyncSession, int, Actor, datetime], Awaitable[None]]:
    async def delete(session: AsyncSession, id_: int, actor: Actor, now: datetime) -> None:
        await service.delete(session, id_, actor=actor, now=now)

    return delete


async def _read_page(session: AsyncSession, id_: int, actor: Actor) -> tuple[str, dict[str, Any]]:
    read = await page_service.read(session, await page_service.get(session, id_, actor=actor))
    return read.name, _doc(PageCreate, read, projects=_project_ids(read.projects))


async def _read_asset(session: AsyncSession, id_: int, actor: Actor) -> tuple[str, dict[str, Any]]:
    asset = await asset_service.get(session, id_, actor=actor)
    read = await asset_service.read(session, asset)
    return read.name, _doc(AssetDoc, read, projects=_project_ids(read.projects), file=asset.uuid)


async def _asset_files(session: AsyncSession, id_: int, actor: Actor) -> dict[str, bytes]:
    asset = await asset_service.get(session, id_, actor=actor)
    path = asset_service.path(asset)
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError:
        raise Conflict(f"The file of asset {asset.name!r} is missing from the store.") from None
    return {asset.uuid: data}


async def _create_asset(
    session: AsyncSession,
    data: BaseModel,
    actor: Actor,
    now: datetime,
    files: Mapping[str, bytes],
) -> int:
    assert isinstance(data, AssetDoc)
    meta = AssetMeta.model_validate(data.model_dump(include=set(AssetMeta.model_fields)))
    asset = await asset_service.upload(
        session,
        source=io.BytesIO(files[data.file]),
        filename=data.filename,
        meta=meta,
        actor=actor,
        now=now,
    )
    return int(asset.id)


async def _delete_asset(session: AsyncSession, id_: int, actor: Actor, now: datetime) -> None:
    key = await asset_service.delete(session, id_, actor=actor, now=now)
    asset_service.remove_file(key)


def _rewrite_campaign(data: dict[str, Any], fn: Rewrite, pointer: str) -> dict[str, Any]:
    return rewrite_campaign(data, fn, pointer, _references)


KINDS: dict[str, Kind] = {
    "project": Kind(
        "project",
        ProjectCreate,
        ProjectUpdate,
        rewrite_plain,
        _read_project,
        _creator(project_service),
        _updater(project_service),
        _deleter(project_service),
        deferred={},
        unique_name=True,
    ),
    "stage": Kind(
        "stage",
        StageCreate,
        StageUpdate,
        rewrite_plain,
        _read_stage,
        _creator(stage_service),
        _updater(stage_service),
        _deleter(stage_service),
        deferred={},
        unique_name=True,
    ),
    "custom_field": Kind(
        "custom_field",
        FieldCreate,
        FieldUpdate,
        rewrite_plain,
        _read_field,
        _creator(field_service),
        _updater(field_service),
        _deleter(field_service),
        deferred={},
        copyable=False,
    ),
    "email": Kind(
        "email",
        EmailCreate,
        EmailUpdate,
        rewrite_plain,
        _read_email,
        _creator(email_service),
        _updater(email_service),
        _deleter(email_service),
        deferred={},
    ),
    "segment": Kind(
        "segment",
        SegmentCreate,
        SegmentUpdate,
        rewrite_segment,
        _read_segment,
        _creator(segment_service),
        _updater(segment_service),
        _deleter(segment_service),
        deferred={"filters": EMPTY_FILTERS},
        alias="alias",
    ),
    "form": Kind(
        "form",
        FormCreate,
        FormUpdate,
        rewrite_form,
        _read_form,
        _creator(form_service),
        _updater(form_service),
        _deleter(form_service),
        deferred={"actions": []},
        alias="alias",
    ),
    "page": Kind(
        "page",
        PageCreate,
        PageUpdate,
        rewrite_plain,
        _read_page,
        _creator(page_service),
        _updater(page_service),
        _deleter(page_service),
        deferred={},
        alias="slug",
    ),
    "asset": Kind(
        "asset",
        AssetDoc,
        AssetUpdate,
        rewrite_asset,
        _read_asset,
        _create_asset,
        _updater(asset_service),
        _delete_asset,
        deferred={},
        alias="slug",
        attachments=_asset_files,
    ),
    "campaign": Kind(
        "campaign",
        CampaignWrite,
        CampaignSave,
        _rewrite_campaign,
        _read_campaign,
        _creator(campaign_service),
        _updater(campaign_service),
        _deleter(campaign_service),
        deferred={"sources": [], "events": [], "edges": [], "canvas": {}},
    ),
}
assert tuple(KINDS) == KIND_ORDER


def _collect(data: dict[str, Any], kind: Kind) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []

    def note(ref_kind: str, value: Any, pointer: str) -> Any:
        found.append((ref_kind, value))
        return value

    kind.rewrite(data, note, "")
    return found


def _with_pointer(exc: DomainError, prefix: str) -> DomainError:
    errors = [
        FieldError(prefix + e.pointer, e.detail, e.code, e.parameter) for e in exc.errors
    ] or [FieldError(prefix, exc.detail, "invalid")]
    return type(exc)(exc.detail, errors, exc.extra, exc.headers)


# -- the service --------------------------------------------------------------------------------


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
        for ref_kind, value in _collect(data, kind):
            wanted[ref_kind].add(value)
        uuids: dict[str, dict[Any, str]] = {}
        deps: list[tuple[str, int]] = []
        for ref_kind, values in wanted.items():
            if not _exported(ref_kind):
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
            if not _exported(ref_kind):
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
                if not _exported(ref_kind) or not isinstance(value, str):
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
                    if isinstance(event_type, str) and _references(event_type) is None:
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
        manifest = archive.manifest
        planned = {(a.kind, a.uuid): a for a in analysis.entities}
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
        if errors:
            raise ValidationFailed("Some choices are not valid; see errors.", errors)
        repo = PortabilityRepository(session)
        id_map: dict[str, dict[str, int]] = {k: {} for k in KIND_ORDER}
        created: dict[str, list[int]] = defaultdict(list)
        updated: dict[str, list[int]] = defaultdict(list)
        reused: dict[str, list[int]] = defaultdict(list)
        second_pass: list[tuple[Kind, int, ManifestEntity, int, bool]] = []

        def to_id(ref_kind: str, value: Any, pointer: str) -> Any:
            if ref_kind == "custom_field":
                return value
            return id_map[ref_kind].get(value, DROP)

        for kind_key, index, entity in all_entities(manifest):
            kind = KINDS[kind_key]
            plan = planned[(kind_key, entity.uuid)]
            choice = choices.get(entity.uuid, plan.default)
            base = entity_pointer(kind_key, index)
            if choice in ("reuse", "update"):
                assert plan.existing_id is not None
                id_map[kind_key][entity.uuid] = plan.existing_id
                if choice == "reuse":
                    reused[kind_key].append(plan.existing_id)
                else:
                    updated[kind_key].append(plan.existing_id)
                    second_pass.append((kind, index, entity, plan.existing_id, True))
                continue
            data = {**entity.data, **kind.deferred}
            data = kind.rewrite(data, to_id, "")
            if choice == "copy" or plan.status != "new":
                data = await self._free_name(repo, kind, data)
            elif (
                kind.alias
                and data.get(kind.alias)
                and await repo.alias_taken(kind_key, kind.alias, data[kind.alias])
            ):
                data[kind.alias] = None
            try:
                new_id = await kind.create(
                    session, kind.create_model.model_validate(data), actor, now, archive.files
                )
            except DomainError as exc:
                raise _with_pointer(exc, base) from None
            except ValidationError as exc:
                raise _invalid_here(exc, base) from None
            if plan.status == "new":
                await repo.set_uuid(kind_key, new_id, entity.uuid)
            id_map[kind_key][entity.uuid] = new_id
            created[kind_key].append(new_id)
            if kind.deferred:
                second_pass.append((kind, index, entity, new_id, False))

        for kind, index, entity, target, whole in second_pass:
            base = entity_pointer(kind.key, index)
            data = kind.rewrite(dict(entity.data), to_id, "")
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
                raise _with_pointer(exc, base) from None
            except ValidationError as exc:
                raise _invalid_here(exc, base) from None

        campaign_ids = [id_map["campaign"][u] for u in manifest.campaigns]
        for campaign_id in updated.get("campaign", []):
            campaign = await campaign_service.get(session, campaign_id, actor=actor)
            if campaign.is_published:
                await campaign_service.set_published(
                    session, campaign_id, published=False, actor=actor, now=now
                )
        summary = {
            "created": dict(created),
            "updated": dict(updated),
            "reused": dict(reused),
            "campaigns": campaign_ids,
        }
        if archive.source != "trellis":
            summary["source"] = archive.source
            summary["notes"] = archive.notes
        record = CampaignImport(
            filename=filename[:255],
            format_version=manifest.format_version,
            exported_by=manifest.trellis_version[:40],
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
        return ImportResult(
            source=analysis.source,
            notes=analysis.notes,
            import_id=record.id,
            campaign_ids=campaign_ids,
            created=dict(created),
            updated=dict(updated),
            reused=dict(reused),
        )

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
