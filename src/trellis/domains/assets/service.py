"""Assets: uploaded files, their tracked download links, the form gate, the downloads.

An upload is checked (size, type by content and extension) and stored under a random key
before its row is written. A download by a known contact (a signed ``ct`` link, or the signed
link a gate form hands out) is recorded with the contact and offered to the contact's waiting
``asset.download`` decisions, in the request's transaction.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor, Perm
from trellis.db.models import Asset, Form
from trellis.db.pagination import Page, PageRequest
from trellis.domains.assets.links import AssetLinks
from trellis.domains.assets.repository import AssetRepository
from trellis.domains.assets.schemas import AssetMeta, AssetRead, AssetUpdate
from trellis.domains.assets.storage import (
    AssetStore,
    TooLarge,
    UnconfiguredAssetStore,
    UnsupportedFile,
)
from trellis.domains.contacts.bulk import contact_bulk_service
from trellis.domains.emails.links import LinkSigner
from trellis.domains.forms.service import form_service
from trellis.domains.forms.submission import anonymise_ip
from trellis.domains.projects.links import project_links
from trellis.domains.projects.schemas import ProjectRef
from trellis.errors import FieldError, PayloadTooLarge, ValidationFailed
from trellis.events.asset import BEHAVIOUR_DOWNLOAD
from trellis.events.base import Behaviour
from trellis.kit.crud import AuditedCrud, EntityKind
from trellis.kit.versions import check_version
from trellis.ports import Journeys
from trellis.wiring import Slot


@dataclass(frozen=True)
class AssetPolicy:
    store: AssetStore
    links: AssetLinks
    max_bytes: int = 20 * 1024 * 1024
    gate_link_hours: int = 24


def _snapshot(asset: Asset) -> dict[str, Any]:
    return {
        "name": asset.name,
        "description": asset.description,
        "slug": asset.slug,
        "filename": asset.filename,
        "size": asset.size,
        "is_published": asset.is_published,
        "gate_form_id": asset.gate_form_id,
    }


def _clean_filename(filename: str) -> str:
    """The name shown in Content-Disposition: no path, no control characters."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable() and c not in '"<>|:*?')
    return name.strip()[:255] or "download"


ASSETS: AuditedCrud[Asset] = AuditedCrud(
    EntityKind(
        resource="assets",
        entity_type="asset",
        label="asset",
        repository=AssetRepository,
        snapshot=_snapshot,
        projectable=True,
        publishable=True,
    )
)


class AssetService:
    journeys: Slot[Journeys] = Slot()

    def __init__(self) -> None:
        self.policy = AssetPolicy(
            store=UnconfiguredAssetStore(),
            links=AssetLinks(LinkSigner(b"unconfigured", "http://127.0.0.1:8000")),
        )

    def configure(self, policy: AssetPolicy) -> None:
        self.policy = policy

    @property
    def links(self) -> AssetLinks:
        return self.policy.links

    def url(self, asset: Asset) -> str:
        return f"{self.links.base_url}/a/{asset.slug or asset.uuid}"

    def path(self, asset: Asset) -> Path:
        return self.policy.store.path(asset.storage_key)

    # -- reading --------------------------------------------------------------------------------

    async def get(self, session: AsyncSession, asset_id: int, *, actor: Actor) -> Asset:
        return await ASSETS.get(session, asset_id, actor=actor)

    async def read(self, session: AsyncSession, asset: Asset) -> AssetRead:
        return (await self.read_many(session, [asset]))[0]

    async def read_many(self, session: AsyncSession, assets: Sequence[Asset]) -> list[AssetRead]:
        ids = [a.id for a in assets]
        projects = await project_links.projects_of(session, "asset", ids)
        stats = await AssetRepository(session).stats(ids)
        out = []
        for asset in assets:
            item = AssetRead.model_validate(asset)
            item.url = self.url(asset)
            item.download_count, item.last_download_at = stats.get(asset.id, (0, None))
            item.projects = [ProjectRef(id=p.id, name=p.name) for p in projects[asset.id]]
            out.append(item)
        return out

    async def list_page(
        self,
        session: AsyncSession,
        *,
        actor: Actor,
        page: PageRequest,
        q: str | None = None,
        project_id: int | None = None,
        is_published: bool | None = None,
    ) -> Page[Asset]:
        published = Asset.is_published.is_(is_published) if is_published is not None else None
        return await ASSETS.list_page(
            session, actor=actor, page=page, q=q, project_id=project_id, where=[published]
        )

    async def existing_ids(
        self, session: AsyncSession, ids: Sequence[int], *, actor: Actor | None = None
    ) -> set[int]:
        return await ASSETS.existing_ids(session, ids, actor=actor)

    async def link(
        self, session: AsyncSession, asset_id: int, *, contact_id: int | None, actor: Actor
    ) -> str:
        asset = await self.get(session, asset_id, actor=actor)
        if contact_id is not None:
            actor.require("contacts", Perm.VIEW_OTHERS)
            if not await contact_bulk_service.values(session, contact_ids=[contact_id]):
                raise ValidationFailed(
                    "No such contact.",
                    [FieldError("/contact_id", "No contact with this id.", "not_found")],
                )
        return self.links.with_contact(self.url(asset), contact_id)

    # -- writing --------------------------------------------------------------------------------

    async def _problems(
        self,
        session: AsyncSession,
        *,
        slug: str | None,
        gate_form_id: int | None,
        exclude_id: int | None = None,
    ) -> list[FieldError]:
        errors: list[FieldError] = []
        if slug is not None:
            if await AssetRepository(session).slug_taken(slug, exclude_id=exclude_id):
                errors.append(
                    FieldError("/slug", f"Another asset uses the slug {slug!r}.", "taken")
                )
            elif len(slug) == 36 and slug.count("-") == 4:
                errors.append(FieldError("/slug", "A slug cannot look like a UUID.", "invalid"))
        if gate_form_id is not None and not await form_service.existing_ids(
            session, [gate_form_id]
        ):
            errors.append(
                FieldError("/gate_form_id", f"No form with id {gate_form_id}.", "not_found")
            )
        return errors

    async def upload(
        self,
        session: AsyncSession,
        *,
        source: IO[bytes],
        filename: str,
        meta: AssetMeta,
        actor: Actor,
        now: datetime,
    ) -> Asset:
        actor.require("assets", Perm.CREATE)
        if meta.is_published:
            actor.require("assets", Perm.PUBLISH)
        errors = await self._problems(session, slug=meta.slug, gate_form_id=meta.gate_form_id)
        if errors:
            raise ValidationFailed("The asset cannot be saved as it is.", errors)
        clean = _clean_filename(filename)
        try:
            stored = await asyncio.to_thread(
                self.policy.store.save, source, clean, max_bytes=self.policy.max_bytes
            )
        except TooLarge as exc:
            raise PayloadTooLarge(str(exc)) from None
        except UnsupportedFile as exc:
            raise ValidationFailed(
                "The file is not accepted.", [FieldError("/file", str(exc), "unsupported_type")]
            ) from None
        asset = Asset(
            uuid=str(uuid.uuid4()),
            slug=meta.slug,
            name=meta.name or clean,
            description=meta.description,
            filename=clean,
            storage_key=stored.key,
            content_type=stored.content_type,
            extension=stored.extension,
            size=stored.size,
            sha256=stored.sha256,
            is_published=meta.is_published,
            gate_form_id=meta.gate_form_id,
            created_by_id=actor.user_id,
            created_at=now,
            updated_at=now,
        )
        try:
            return await ASSETS.create(session, asset, actor=actor, now=now, projects=meta.projects)
        except Exception:
            self.policy.store.delete(stored.key)
            raise

    async def update(
        self,
        session: AsyncSession,
        asset_id: int,
        *,
        data: AssetUpdate,
        actor: Actor,
        now: datetime,
        expected_version: int | None,
    ) -> Asset:
        asset = await ASSETS.for_edit(session, asset_id, actor=actor)
        check_version(asset, expected_version)
        given = data.model_dump(exclude_unset=True, exclude={"projects"})
        errors = await self._problems(
            session,
            slug=given.get("slug"),
            gate_form_id=given.get("gate_form_id"),
            exclude_id=asset.id,
        )
        if errors:
            raise ValidationFailed("The asset cannot be saved as it is.", errors)

        async def apply(asset: Asset) -> None:
            for name, value in given.items():
                # slug and gate_form_id may be cleared with null; the others may not.
                if value is not None or name in ("slug", "gate_form_id"):
                    setattr(asset, name, value)

        await ASSETS.update(
            session,
            asset,
            actor=actor,
            now=now,
            expected_version=expected_version,
            apply=apply,
            projects=data.projects,
        )
        return asset

    async def delete(
        self, session: AsyncSession, asset_id: int, *, actor: Actor, now: datetime
    ) -> str:
        """Delete the row; returns the storage key, for the caller to remove after commit."""
        asset = await ASSETS.for_delete(session, asset_id, actor=actor)
        key = asset.storage_key
        await ASSETS.delete(session, asset, actor=actor, now=now)
        return key

    def remove_file(self, key: str) -> None:
        self.policy.store.delete(key)

    # -- the public side ------------------------------------------------------------------------

    async def published(self, session: AsyncSession, key: str) -> Asset | None:
        if not key or len(key) > 100:
            return None
        asset = await AssetRepository(session).by_key(key)
        if asset is None or not asset.is_published or not self.path(asset).is_file():
            return None
        return asset

    async def gate_form(self, session: AsyncSession, asset: Asset) -> Form | None:
        """The published form a visitor fills in before the download, if the asset has one."""
        if asset.gate_form_id is None:
            return None
        return await form_service.current(session, asset.gate_form_id)

    def download_url(self, asset: Asset, contact_id: int | None, now: datetime) -> str:
        expires = now + timedelta(hours=self.policy.gate_link_hours)
        token = self.links.download_token(asset.id, contact_id, expires)
        return f"{self.url(asset)}?dl={token}"

    async def known_contact(self, session: AsyncSession, contact_id: int | None) -> int | None:
        if contact_id is None:
            return None
        found = await contact_bulk_service.values(session, contact_ids=[contact_id])
        return contact_id if found else None

    async def record_download(
        self,
        session: AsyncSession,
        asset: Asset,
        *,
        contact_id: int | None,
        ip: str | None,
        now: datetime,
    ) -> None:
        """Keep the download and offer it to the contact's waiting decisions."""
        await AssetRepository(session).record_downloads(
            [
                {
                    "asset_id": asset.id,
                    "contact_id": contact_id,
                    "ip": anonymise_ip(ip),
                    "created_at": now,
                }
            ]
        )
        if contact_id is None:
            return
        await contact_bulk_service.touch_activity(session, contact_ids=[contact_id], now=now)
        await self.journeys.offer_many(
            session,
            offers=[
                (
                    contact_id,
                    Behaviour(
                        kind=BEHAVIOUR_DOWNLOAD,
                        channel_id=asset.id,
                        properties={"asset": asset.name},
                    ),
                )
            ],
            now=now,
        )


asset_service = AssetService()


PROJECTABLE = ASSETS.projectable("Assets")
