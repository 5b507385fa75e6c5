"""Every query of the pages domain."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from trellis.db.models import Page
from trellis.db.pagination import Page as ResultPage
from trellis.db.pagination import PageRequest, order_by_sort, paginate, text_search
from trellis.db.projects import in_project


class PageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, page_id: int) -> Page | None:
        return await self.session.get(Page, page_id)

    async def by_slug(self, slug: str) -> Page | None:
        return await self.session.scalar(select(Page).where(Page.slug == slug))

    async def slug_taken(self, slug: str, *, exclude_id: int | None = None) -> bool:
        stmt = select(Page.id).where(Page.slug == slug)
        if exclude_id is not None:
            stmt = stmt.where(Page.id != exclude_id)
        return (await self.session.scalar(stmt.limit(1))) is not None

    async def slugs_like(self, prefix: str) -> set[str]:
        rows = await self.session.scalars(select(Page.slug).where(Page.slug.like(f"{prefix}%")))
        return set(rows.all())

    async def names(self, ids: Sequence[int]) -> dict[int, str]:
        if not ids:
            return {}
        rows = await self.session.execute(select(Page.id, Page.name).where(Page.id.in_(list(ids))))
        return {i: n for i, n in rows.all()}

    async def ids_by_slug(self, slugs: Sequence[str]) -> dict[str, int]:
        if not slugs:
            return {}
        rows = await self.session.execute(
            select(Page.slug, Page.id).where(Page.slug.in_(list(slugs)))
        )
        return {slug: page_id for slug, page_id in rows.all()}

    def add(self, page: Page) -> None:
        self.session.add(page)

    async def delete(self, page: Page) -> None:
        await self.session.delete(page)

    async def list_page(
        self,
        *,
        page: PageRequest,
        q: str | None,
        project_id: int | None,
        is_published: bool | None,
    ) -> ResultPage[Page]:
        stmt = select(Page)
        if q:
            stmt = stmt.where(text_search(q, Page.name, Page.slug, Page.title))
        if project_id is not None:
            stmt = stmt.where(in_project("page", Page.id, project_id))
        if is_published is not None:
            stmt = stmt.where(Page.is_published == is_published)
        order = order_by_sort(
            page.sort,
            allowed={
                "name": Page.name,
                "slug": Page.slug,
                "created_at": Page.created_at,
                "updated_at": Page.updated_at,
            },
            default="name",
            tiebreaker=Page.id,
        )
        return await paginate(self.session, stmt, page=page, order_by=order)
