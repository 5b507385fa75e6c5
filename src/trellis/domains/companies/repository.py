from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from trellis.db.models import Company, ContactCompany
from trellis.db.pagination import Page, PageRequest, order_by_sort, paginate


class CompanyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, company_id: int) -> Company | None:
        return await self.session.get(Company, company_id)

    async def list_page(self, *, page: PageRequest, q: str | None) -> Page[Company]:
        stmt = select(Company)
        if q:
            pattern = f"%{q.strip().lower()}%"
            stmt = stmt.where(
                or_(func.lower(Company.name).like(pattern), Company.domain.like(pattern))
            )
        order = order_by_sort(
            page.sort,
            allowed={
                "name": Company.name,
                "domain": Company.domain,
                "created_at": Company.created_at,
            },
            default="name",
            tiebreaker=Company.id,
        )
        return await paginate(self.session, stmt, page=page, order_by=order)

    async def contact_counts(self, company_ids: Sequence[int]) -> dict[int, int]:
        if not company_ids:
            return {}
        rows = await self.session.execute(
            select(ContactCompany.company_id, func.count())
            .where(ContactCompany.company_id.in_(company_ids))
            .group_by(ContactCompany.company_id)
        )
        return dict(rows.all())

    async def existing_ids(self, ids: Sequence[int]) -> set[int]:
        if not ids:
            return set()
        rows = await self.session.scalars(select(Company.id).where(Company.id.in_(ids)))
        return set(rows.all())

    def add(self, company: Company) -> None:
        self.session.add(company)

    async def delete(self, company: Company) -> None:
        await self.session.delete(company)
