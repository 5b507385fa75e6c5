"""The kinds of entity a campaign export carries: how each is read for export, created,
updated and deleted on import, and which references it holds."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor
from trellis.domains.assets.schemas import AssetMeta, AssetUpdate
from trellis.domains.assets.service import asset_service
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
    KIND_ORDER,
    Rewrite,
    rewrite_asset,
    rewrite_campaign,
    rewrite_form,
    rewrite_plain,
    rewrite_segment,
)
from trellis.domains.portability.schemas import (
    AssetDoc,
)
from trellis.domains.projects.schemas import ProjectCreate, ProjectRead, ProjectUpdate
from trellis.domains.projects.service import project_service
from trellis.domains.segments.schemas import EMPTY_FILTERS, SegmentCreate, SegmentUpdate
from trellis.domains.segments.service import segment_service
from trellis.domains.stages.schemas import StageCreate, StageRead, StageUpdate
from trellis.domains.stages.service import stage_service
from trellis.errors import Conflict, DomainError, FieldError


def is_exported(ref_kind: str) -> bool:
    """Users, companies (and kinds without an export yet) are left out of a file."""
    return ref_kind in KIND_ORDER


def event_references(event_type: str) -> dict[str, str] | None:
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
    return rewrite_campaign(data, fn, pointer, event_references)


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


def references_in(data: dict[str, Any], kind: Kind) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []

    def note(ref_kind: str, value: Any, pointer: str) -> Any:
        found.append((ref_kind, value))
        return value

    kind.rewrite(data, note, "")
    return found


def with_pointer(exc: DomainError, prefix: str) -> DomainError:
    errors = [
        FieldError(prefix + e.pointer, e.detail, e.code, e.parameter) for e in exc.errors
    ] or [FieldError(prefix, exc.detail, "invalid")]
    return type(exc)(exc.detail, errors, exc.extra, exc.headers)
