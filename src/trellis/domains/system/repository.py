from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from trellis.db.models import AppSetting


class SettingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def all(self) -> dict[str, Any]:
        rows = await self.session.scalars(select(AppSetting))
        return {row.key: row.value for row in rows}

    async def put(self, key: str, value: Any, *, now: datetime) -> None:
        row = await self.session.get(AppSetting, key)
        if row is None:
            self.session.add(AppSetting(key=key, value=value, updated_at=now))
        else:
            row.value = value
            row.updated_at = now
        await self.session.flush()

    async def ping(self) -> None:
        await self.session.execute(text("SELECT 1"))
