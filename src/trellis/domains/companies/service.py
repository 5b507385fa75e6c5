"""Companies: organisations contacts work for, with custom company fields."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor, Perm
from trellis.db.models import Company
from trellis.db.pagination import Page, PageRequest
from trellis.domains.audit.service import AuditAction, audit, diff
from trellis.domains.companies.repository import CompanyRepository
from trellis.domains.companies.schemas import CompanyCreate, CompanyRead, CompanyUpdate
from trellis.domains.fields.service import field_service
from trellis.domains.fields.types import InvalidValue
from trellis.domains.users.service import check_version
from trellis.errors import FieldError, NotFound, ValidationFailed, json_pointer


def _snapshot(company: Company) -> dict[str, Any]:
    return {
        "name": company.name,
        "domain": company.domain,
        **{f"fields.{k}": v for k, v in sorted(company.fields.items())},
    }


class CompanyService:
    async def _fields(self, session: AsyncSession, values: Mapping[str, Any]) -> dict[str, Any]:
        catalog = await field_service.catalog(session, "company")
        cleaned: dict[str, Any] = {}
        errors = []
        for alias, value in values.items():
            spec = catalog.get(alias)
            if spec is None:
                errors.append(
                    FieldError(
                        json_pointer("fields", alias),
                        "No company field has this alias.",
                        "unknown_field",
                    )
                )
                continue
            try:
                cleaned[alias] = spec.coerce(value)
            except InvalidValue as exc:
                errors.append(FieldError(json_pointer("fields", alias), str(exc), "invalid_value"))
        if errors:
            raise ValidationFailed("Some fields are invalid.", errors)
        return cleaned

    async def existing_ids(self, session: AsyncSession, ids: Sequence[int]) -> set[int]:
        return await CompanyRepository(session).existing_ids(ids)

    async def read_many(self, session: AsyncSession, companies: list[Company]) -> list[CompanyRead]:
        counts = await CompanyRepository(session).contact_counts([c.id for c in companies])
        reads = []
        for company in companies:
            read = CompanyRead.model_validate(company)
            read.contacts = counts.get(company.id, 0)
            reads.append(read)
        return reads

    async def list_page(
        self, session: AsyncSession, *, actor: Actor, page: PageRequest, q: str | None
    ) -> Page[CompanyRead]:
        actor.require_view_any("companies")
        result = await CompanyRepository(session).list_page(page=page, q=q)
        return Page(
            items=await self.read_many(session, list(result.items)),
            total=result.total,
            number=result.number,
            size=result.size,
        )

    async def get(self, session: AsyncSession, company_id: int, *, actor: Actor) -> Company:
        company = await CompanyRepository(session).get(company_id)
        if company is None:
            raise NotFound(f"No company with id {company_id}.")
        actor.require_view_any("companies")
        return company

    async def create(
        self, session: AsyncSession, *, data: CompanyCreate, actor: Actor, now: datetime
    ) -> Company:
        actor.require("companies", Perm.CREATE)
        fields = {
            k: v for k, v in (await self._fields(session, data.fields)).items() if v is not None
        }
        company = Company(
            name=data.name,
            domain=(data.domain or None) and data.domain.lower(),
            fields=fields,
            created_at=now,
            updated_at=now,
        )
        repo = CompanyRepository(session)
        repo.add(company)
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action=AuditAction.CREATE,
            entity_type="company",
            entity_id=company.id,
            entity_name=company.name,
            changes=diff({}, _snapshot(company)),
            now=now,
        )
        return company

    async def update(
        self,
        session: AsyncSession,
        company_id: int,
        *,
        data: CompanyUpdate,
        actor: Actor,
        now: datetime,
        expected_version: int | None,
    ) -> Company:
        actor.require("companies", Perm.EDIT_OTHERS)
        company = await CompanyRepository(session).get(company_id)
        if company is None:
            raise NotFound(f"No company with id {company_id}.")
        check_version(company, expected_version)
        before = _snapshot(company)
        given = data.model_dump(exclude_unset=True)
        if given.get("name") is not None:
            company.name = given["name"]
        if "domain" in given:
            company.domain = (given["domain"] or None) and given["domain"].lower()
        if given.get("fields") is not None:
            merged = dict(company.fields)
            for alias, value in (await self._fields(session, given["fields"])).items():
                if value is None:
                    merged.pop(alias, None)
                else:
                    merged[alias] = value
            company.fields = merged
        after = _snapshot(company)
        if after != before:
            company.version += 1
            company.updated_at = now
            await session.flush()
            await audit.record(
                session,
                actor=actor,
                action=AuditAction.UPDATE,
                entity_type="company",
                entity_id=company.id,
                entity_name=company.name,
                changes=diff(before, after),
                now=now,
            )
        return company

    async def delete(
        self, session: AsyncSession, company_id: int, *, actor: Actor, now: datetime
    ) -> None:
        actor.require("companies", Perm.DELETE_OTHERS)
        repo = CompanyRepository(session)
        company = await repo.get(company_id)
        if company is None:
            raise NotFound(f"No company with id {company_id}.")
        snapshot = _snapshot(company)
        await repo.delete(company)
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action=AuditAction.DELETE,
            entity_type="company",
            entity_id=company_id,
            entity_name=snapshot["name"],
            changes=diff(snapshot, {}),
            now=now,
        )


company_service = CompanyService()
