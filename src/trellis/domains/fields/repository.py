from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from trellis.db.json import without_key
from trellis.db.models import Company, Contact, CustomField


class FieldRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, field_id: int) -> CustomField | None:
        return await self.session.get(CustomField, field_id)

    async def by_alias(self, object_: str, alias: str) -> CustomField | None:
        return await self.session.scalar(
            select(CustomField).where(CustomField.object == object_, CustomField.alias == alias)
        )

    async def for_object(self, object_: str) -> list[CustomField]:
        rows = await self.session.scalars(
            select(CustomField)
            .where(CustomField.object == object_)
            .order_by(CustomField.position, CustomField.id)
        )
        return list(rows.all())

    async def count_for_object(self, object_: str) -> int:
        return int(
            await self.session.scalar(
                select(func.count()).select_from(CustomField).where(CustomField.object == object_)
            )
            or 0
        )

    def add(self, field: CustomField) -> None:
        self.session.add(field)

    async def delete(self, field: CustomField) -> None:
        await self.session.delete(field)

    async def drop_values(self, object_: str, alias: str) -> None:
        """Remove the field's value from every row, in one statement."""
        model = Contact if object_ == "contact" else Company
        await self.session.execute(update(model).values(fields=without_key(model.fields, alias)))
