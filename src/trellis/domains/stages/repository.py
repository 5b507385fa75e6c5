from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from trellis.db.models import Stage


class StageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, stage_id: int) -> Stage | None:
        return await self.session.get(Stage, stage_id)

    async def by_name(self, name: str) -> Stage | None:
        return await self.session.scalar(
            select(Stage).where(func.lower(Stage.name) == name.lower())
        )

    async def ordered(self) -> list[Stage]:
        return list(
            (await self.session.scalars(select(Stage).order_by(Stage.position, Stage.id))).all()
        )

    async def next_position(self) -> int:
        return (
            int(await self.session.scalar(select(func.coalesce(func.max(Stage.position), -1))) or 0)
            + 1
        )

    async def existing_ids(self, ids: Sequence[int]) -> set[int]:
        if not ids:
            return set()
        return set((await self.session.scalars(select(Stage.id).where(Stage.id.in_(ids)))).all())

    def add(self, stage: Stage) -> None:
        self.session.add(stage)

    async def delete(self, stage: Stage) -> None:
        await self.session.delete(stage)
