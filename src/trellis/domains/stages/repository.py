from __future__ import annotations

from sqlalchemy import func, select

from trellis.db.models import Stage
from trellis.kit.repository import EntityRepository


class StageRepository(EntityRepository[Stage]):
    model = Stage

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
