"""The repository every user-managed entity shares: get, list with search, project and
visibility filters, existence checks for references, names for pickers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar, cast

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from trellis.db.dialect import dialect_name
from trellis.db.pagination import Page, PageRequest, order_by_sort, paginate, text_search
from trellis.db.projects import in_project

M = TypeVar("M")


class EntityRepository(Generic[M]):
    """Subclasses name their model and how it is searched and sorted."""

    model: ClassVar[type[Any]]
    # The project links' entity type, for entities that can be put into projects.
    entity_type: ClassVar[str | None] = None
    search_columns: ClassVar[tuple[str, ...]] = ("name",)
    sort_columns: ClassVar[tuple[str, ...]] = ("name", "created_at", "updated_at")
    default_sort: ClassVar[str] = "name"

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def column(self, name: str) -> Any:
        return getattr(self.model, name)

    async def get(self, entity_id: int) -> M | None:
        return cast(M | None, await self.session.get(self.model, entity_id))

    async def lock(self, entity_id: int) -> M | None:
        """The row, locked for the rest of the transaction (PostgreSQL; SQLite's writes are
        serialised anyway)."""
        stmt = (
            select(self.model)
            .where(self.column("id") == entity_id)
            .execution_options(populate_existing=True)
        )
        if dialect_name(self.session) == "postgresql":
            stmt = stmt.with_for_update()
        return cast(M | None, await self.session.scalar(stmt))

    def add(self, entity: M) -> None:
        self.session.add(entity)

    async def delete(self, entity: M) -> None:
        await self.session.delete(entity)

    async def existing_ids(
        self, ids: Sequence[int], *, where: ColumnElement[bool] | None = None
    ) -> set[int]:
        if not ids:
            return set()
        stmt = select(self.column("id")).where(self.column("id").in_(sorted(set(ids))))
        if where is not None:
            stmt = stmt.where(where)
        return set((await self.session.scalars(stmt)).all())

    async def names(
        self, ids: Sequence[int], *, where: ColumnElement[bool] | None = None
    ) -> dict[int, str]:
        if not ids:
            return {}
        stmt = select(self.column("id"), self.column("name")).where(
            self.column("id").in_(sorted(set(ids)))
        )
        if where is not None:
            stmt = stmt.where(where)
        return {int(row[0]): str(row[1]) for row in (await self.session.execute(stmt)).all()}

    def query(
        self,
        *,
        q: str | None = None,
        project_id: int | None = None,
        where: Sequence[ColumnElement[bool] | None] = (),
    ) -> Select[Any]:
        stmt = select(self.model)
        if q:
            stmt = stmt.where(text_search(q, *(self.column(c) for c in self.search_columns)))
        if project_id is not None:
            if self.entity_type is None:
                raise TypeError(f"{self.model.__name__} is not put into projects")
            stmt = stmt.where(in_project(self.entity_type, self.column("id"), project_id))
        for clause in where:
            if clause is not None:
                stmt = stmt.where(clause)
        return stmt

    async def list_page(
        self,
        *,
        page: PageRequest,
        q: str | None = None,
        project_id: int | None = None,
        where: Sequence[ColumnElement[bool] | None] = (),
    ) -> Page[M]:
        order = order_by_sort(
            page.sort,
            allowed={name: self.column(name) for name in self.sort_columns},
            default=self.default_sort,
            tiebreaker=self.column("id"),
        )
        stmt = self.query(q=q, project_id=project_id, where=where)
        return cast(Page[M], await paginate(self.session, stmt, page=page, order_by=order))
