"""Companies: organisations contacts work for, with custom company fields and an owner."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor, Perm
from trellis.db.models import Company
from trellis.db.pagination import Page, PageRequest
from trellis.domains.companies.repository import CompanyRepository
from trellis.domains.companies.schemas import CompanyCreate, CompanyRead, CompanyUpdate
from trellis.domains.fields.service import field_service
from trellis.domains.fields.types import InvalidValue
from trellis.domains.users.service import user_service
from trellis.errors import FieldError, ValidationFailed, json_pointer
from trellis.kit.crud import AuditedCrud, EntityKind


def _snapshot(company: Company) -> dict[str, Any]:
    return {
        "name": company.name,
        "domain": company.domain,
        "owner_id": company.owner_id,
        **{f"fields.{k}": v for k, v in sorted(company.fields.items())},
    }


COMPANIES: AuditedCrud[Company] = AuditedCrud(
    EntityKind(
        resource="companies",
        entity_type="company",
        label="company",
        repository=CompanyRepository,
        snapshot=_snapshot,
        owner="owner_id",
    )
)


class CompanyService:
    crud = COMPANIES

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

    async def _owner(self, session: AsyncSession, owner_id: int, actor: Actor) -> int:
        """A company given to someone else is a change to others' data."""
        if owner_id != actor.user_id:
            actor.require("companies", Perm.EDIT_OTHERS)
        if not await user_service.existing_ids(session, [owner_id]):
            raise ValidationFailed(
                "The owner does not exist.", [FieldError("/owner_id", "No such user.", "not_found")]
            )
        return owner_id

    async def existing_ids(
        self, session: AsyncSession, ids: Sequence[int], *, actor: Actor | None = None
    ) -> set[int]:
        return await self.crud.existing_ids(session, ids, actor=actor)

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
        result = await self.crud.list_page(session, actor=actor, page=page, q=q)
        return Page(
            items=await self.read_many(session, list(result.items)),
            total=result.total,
            number=result.number,
            size=result.size,
        )

    async def get(self, session: AsyncSession, company_id: int, *, actor: Actor) -> Company:
        return await self.crud.get(session, company_id, actor=actor)

    async def create(
        self, session: AsyncSession, *, data: CompanyCreate, actor: Actor, now: datetime
    ) -> Company:
        actor.require("companies", Perm.CREATE)
        fields = {
            k: v for k, v in (await self._fields(session, data.fields)).items() if v is not None
        }
        owner_id = actor.user_id
        if data.owner_id is not None:
            owner_id = await self._owner(session, data.owner_id, actor)
        company = Company(
            name=data.name,
            domain=(data.domain or None) and data.domain.lower(),
            fields=fields,
            owner_id=owner_id,
            created_at=now,
            updated_at=now,
        )
        return await self.crud.create(session, company, actor=actor, now=now)

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
        company = await self.crud.for_edit(session, company_id, actor=actor)
        given = data.model_dump(exclude_unset=True)

        async def apply(company: Company) -> None:
            if given.get("name") is not None:
                company.name = given["name"]
            if "domain" in given:
                company.domain = (given["domain"] or None) and given["domain"].lower()
            if given.get("owner_id") is not None and given["owner_id"] != company.owner_id:
                company.owner_id = await self._owner(session, given["owner_id"], actor)
            if given.get("fields") is not None:
                merged = dict(company.fields)
                for alias, value in (await self._fields(session, given["fields"])).items():
                    if value is None:
                        merged.pop(alias, None)
                    else:
                        merged[alias] = value
                company.fields = merged

        await self.crud.update(
            session, company, actor=actor, now=now, expected_version=expected_version, apply=apply
        )
        return company

    async def delete(
        self, session: AsyncSession, company_id: int, *, actor: Actor, now: datetime
    ) -> None:
        company = await self.crud.for_delete(session, company_id, actor=actor)
        await self.crud.delete(session, company, actor=actor, now=now)


company_service = CompanyService()
