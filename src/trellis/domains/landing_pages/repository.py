"""Every query of the pages domain."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from trellis.db.models import Page
from trellis.kit.repository import EntityRepository


class PageRepository(EntityRepository[Page]):
    model = Page
    entity_type = "page"
    search_columns = ("name", "slug", "title")
    sort_columns = ("name", "slug", "created_at", "updated_at")

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

    async def ids_by_slug(self, slugs: Sequence[str]) -> dict[str, int]:
        if not slugs:
            return {}
        rows = await self.session.execute(
            select(Page.slug, Page.id).where(Page.slug.in_(list(slugs)))
        )
        return {slug: page_id for slug, page_id in rows.all()}
