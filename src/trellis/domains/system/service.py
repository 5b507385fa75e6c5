"""Instance settings that administrators change at run time, and health checks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor, Perm
from trellis.domains.audit.service import AuditAction, audit, diff
from trellis.domains.system.repository import SettingRepository
from trellis.domains.system.schemas import InstanceSettings, InstanceSettingsUpdate


class SystemService:
    async def settings(self, session: AsyncSession) -> InstanceSettings:
        stored = await SettingRepository(session).all()
        known = {k: v for k, v in stored.items() if k in InstanceSettings.model_fields}
        return InstanceSettings.model_validate(known)

    async def update_settings(
        self, session: AsyncSession, *, data: InstanceSettingsUpdate, actor: Actor, now: datetime
    ) -> InstanceSettings:
        actor.require("settings", Perm.EDIT_OTHERS)
        before = await self.settings(session)
        repo = SettingRepository(session)
        for key, value in data.model_dump(exclude_unset=True, exclude_none=True).items():
            await repo.put(key, value, now=now)
        after = await self.settings(session)
        changes = diff(before.model_dump(), after.model_dump())
        if changes:
            await audit.record(
                session,
                actor=actor,
                action=AuditAction.UPDATE,
                entity_type="settings",
                entity_id=None,
                entity_name="Instance settings",
                changes=changes,
                now=now,
            )
        return after

    async def database_ready(self, session: AsyncSession) -> None:
        await SettingRepository(session).ping()


system_service = SystemService()
