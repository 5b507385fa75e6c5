"""Instance settings that administrators change at run time, and health checks."""

from __future__ import annotations

import time
import weakref
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor, Perm
from trellis.domains.audit.service import AuditAction, audit, diff
from trellis.domains.system.repository import SettingRepository
from trellis.domains.system.schemas import InstanceSettings, InstanceSettingsUpdate


class SystemService:
    # Read on hot paths (every campaign decision); other processes see a change within this.
    CACHE_SECONDS = 5.0

    def __init__(self) -> None:
        self._cached: tuple[float, weakref.ref[Any], InstanceSettings] | None = None

    async def settings(self, session: AsyncSession) -> InstanceSettings:
        bind = session.get_bind()
        if self._cached is not None:
            expires, cached_bind, value = self._cached
            if cached_bind() is bind and time.monotonic() < expires:
                return value
        stored = await SettingRepository(session).all()
        known = {k: v for k, v in stored.items() if k in InstanceSettings.model_fields}
        value = InstanceSettings.model_validate(known)
        self._cached = (time.monotonic() + self.CACHE_SECONDS, weakref.ref(bind), value)
        return value

    async def update_settings(
        self, session: AsyncSession, *, data: InstanceSettingsUpdate, actor: Actor, now: datetime
    ) -> InstanceSettings:
        actor.require("settings", Perm.EDIT_OTHERS)
        self._cached = None
        before = await self.settings(session)
        repo = SettingRepository(session)
        for key, value in data.model_dump(exclude_unset=True, exclude_none=True).items():
            await repo.put(key, value, now=now)
        self._cached = None
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
