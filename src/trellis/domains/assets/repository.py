"""Every query of the assets domain: assets and their downloads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, select

from trellis.db.base import table_of
from trellis.db.models import Asset, AssetDownload
from trellis.kit.repository import EntityRepository


class AssetRepository(EntityRepository[Asset]):
    model = Asset
    entity_type = "asset"
    search_columns = ("name", "filename", "slug")
    sort_columns = ("name", "size", "created_at", "updated_at")

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
