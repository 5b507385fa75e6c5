from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from trellis.db.models import Company, ContactCompany
from trellis.kit.repository import EntityRepository


class CompanyRepository(EntityRepository[Company]):
    model = Company
    search_columns = ("name", "domain")
    sort_columns = ("name", "domain", "created_at", "updated_at")

    async def contact_counts(self, company_ids: Sequence[int]) -> dict[int, int]:
        if not company_ids:
            return {}
        rows = await self.session.execute(
            select(ContactCompany.company_id, func.count())
            .where(ContactCompany.company_id.in_(company_ids))
            .group_by(ContactCompany.company_id)
        )
        return dict(rows.all())
