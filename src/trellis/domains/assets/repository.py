"""Every query of the assets domain: assets and their downloads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from trellis.db.base import table_of
from trellis.db.models import Asset, AssetDownload
from trellis.db.pagination import Page, PageRequest, order_by_sort, paginate, text_search
from trellis.db.projects import in_project


class AssetRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, asset_id: int) -> Asset | None:
        return await self.session.get(Asset, asset_id)

    async def by_key(self, key: str) -> Asset | None:
        """By UUID or by slug."""
        return await self.session.scalar(
            select(Asset).where(or_(Asset.uuid == key, Asset.slug == key)).limit(1)
        )

    async def slug_taken(self, slug: str, *, exclude_id: int | None = None) -> bool:
        stmt = select(Asset.id).where(Asset.slug == slug)
        if exclude_id is not None:
            stmt = stmt.where(Asset.id != exclude_id)
        return (await self.session.scalar(stmt.limit(1))) is not None

    async def names(self, ids: Sequence[int]) -> dict[int, str]:
        if not ids:
            return {}
        rows = await self.session.execute(
            select(Asset.id, Asset.name).where(Asset.id.in_(list(ids)))
        )
        return {i: n for i, n in rows.all()}

    def add(self, asset: Asset) -> None:
        self.session.add(asset)

    async def delete(self, asset: Asset) -> None:
        await self.session.delete(asset)

    async def list_page(
        self,
        *,
        page: PageRequest,
        q: str | None,
        project_id: int | None,
        is_published: bool | None,
    ) -> Page[Asset]:
        stmt = select(Asset)
        if q:
            stmt = stmt.where(text_search(q, Asset.name, Asset.filename, Asset.slug))
        if project_id is not None:
            stmt = stmt.where(in_project("asset", Asset.id, project_id))
        if is_published is not None:
            stmt = stmt.where(Asset.is_published == is_published)
        order = order_by_sort(
            page.sort,
            allowed={
                "name": Asset.name,
                "size": Asset.size,
                "created_at": Asset.created_at,
                "updated_at": Asset.updated_at,
            },
            default="name",
            tiebreaker=Asset.id,
        )
        return await paginate(self.session, stmt, page=page, order_by=order)

    # -- downloads ------------------------------------------------------------------------------

    async def record_downloads(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(table_of(AssetDownload)), list(rows))

    async def stats(self, asset_ids: Sequence[int]) -> dict[int, tuple[int, datetime | None]]:
        """Downloads per asset and the time of the last one (one grouped index scan)."""
        if not asset_ids:
            return {}
        rows = await self.session.execute(
            select(
                AssetDownload.asset_id,
                func.count(AssetDownload.id),
                func.max(AssetDownload.created_at),
            )
            .where(AssetDownload.asset_id.in_(list(asset_ids)))
            .group_by(AssetDownload.asset_id)
        )
        return {asset_id: (int(count), last) for asset_id, count, last in rows.all()}
