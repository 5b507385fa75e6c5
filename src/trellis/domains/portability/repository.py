"""Lookups by uuid, name and alias across the exportable entities, the "has it been used"
checks of an undo, and the import records."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from trellis.db.models import (
    Asset,
    AssetDownload,
    Campaign,
    CampaignImport,
    CampaignMember,
    CustomField,
    Email,
    EmailSend,
    EventLog,
    Form,
    FormSubmission,
    Page,
    Project,
    Segment,
    SegmentMember,
    Stage,
)

MODELS: dict[str, Any] = {
    "project": Project,
    "stage": Stage,
    "custom_field": CustomField,
    "email": Email,
    "segment": Segment,
    "form": Form,
    "page": Page,
    "asset": Asset,
    "campaign": Campaign,
}
# The attribute an import matches on when the uuid is unknown.
NAME_COLUMNS: dict[str, str] = {"custom_field": "alias"}


class PortabilityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def uuids(self, kind: str, ids: Sequence[int]) -> dict[int, str]:
        if not ids:
            return {}
        model = MODELS[kind]
        rows = await self.session.execute(
            select(model.id, model.uuid).where(model.id.in_(list(set(ids))))
        )
        return {row[0]: row[1] for row in rows}

    async def ids_by_uuid(self, kind: str, uuids: Sequence[str]) -> dict[str, int]:
        if not uuids:
            return {}
        model = MODELS[kind]
        rows = await self.session.execute(
            select(model.uuid, model.id).where(model.uuid.in_(list(set(uuids))))
        )
        return {row[0]: row[1] for row in rows}

    async def ids_by_name(self, kind: str, names: Sequence[str]) -> dict[str, int]:
        """The first (lowest id) entity of each name."""
        if not names:
            return {}
        model = MODELS[kind]
        column = getattr(model, NAME_COLUMNS.get(kind, "name"))
        query = select(column, model.id).where(column.in_(list(set(names))))
        if kind == "custom_field":
            query = query.where(CustomField.object == "contact")
        rows = await self.session.execute(query.order_by(model.id.desc()))
        return {row[0]: row[1] for row in rows}

    async def custom_fields_by_alias(self, aliases: Sequence[str]) -> dict[str, int]:
        return await self.ids_by_name("custom_field", aliases)

    async def names_taken(self, kind: str, names: Sequence[str]) -> set[str]:
        return set(await self.ids_by_name(kind, names))

    async def alias_taken(self, kind: str, column: str, value: str) -> bool:
        model = MODELS[kind]
        found = await self.session.scalar(select(exists().where(getattr(model, column) == value)))
        return bool(found)

    async def set_uuid(self, kind: str, entity_id: int, uuid: str) -> None:
        entity = await self.session.get(MODELS[kind], entity_id)
        if entity is not None:
            entity.uuid = uuid
            await self.session.flush()

    async def used(self, created: dict[str, list[int]]) -> list[str]:
        """What of the created entities has been used: members, journal rows, sends,
        submissions."""
        found: list[str] = []
        checks: list[tuple[str, Any]] = []
        if created.get("campaign"):
            ids = created["campaign"]
            checks.append(("campaign members", CampaignMember.campaign_id.in_(ids)))
            checks.append(("campaign journal rows", EventLog.campaign_id.in_(ids)))
        if created.get("segment"):
            checks.append(("segment members", SegmentMember.segment_id.in_(created["segment"])))
        if created.get("email"):
            checks.append(("email sends", EmailSend.email_id.in_(created["email"])))
        if created.get("form"):
            checks.append(("form submissions", FormSubmission.form_id.in_(created["form"])))
        if created.get("asset"):
            checks.append(("asset downloads", AssetDownload.asset_id.in_(created["asset"])))
        for label, condition in checks:
            if await self.session.scalar(select(exists().where(condition))):
                found.append(label)
        return found

    def add_import(self, record: CampaignImport) -> None:
        self.session.add(record)

    async def get_import(self, import_id: int) -> CampaignImport | None:
        return await self.session.get(CampaignImport, import_id)

    async def lock_import(self, import_id: int) -> CampaignImport | None:
        return await self.session.scalar(
            select(CampaignImport).where(CampaignImport.id == import_id).with_for_update()
        )
