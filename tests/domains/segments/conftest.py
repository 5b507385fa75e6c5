"""Helpers for the segment tests: contacts are inserted directly, as rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from trellis.actor import Actor
from trellis.db.models import (
    Company,
    Contact,
    ContactCompany,
    ContactTag,
    DoNotContact,
    SegmentMember,
    SegmentMembershipChange,
    Tag,
)
from trellis.db.session import Database
from trellis.domains.fields.schemas import FieldCreate
from trellis.domains.fields.service import field_service
from trellis.domains.fields.types import FieldType
from trellis.domains.segments.schemas import SegmentCreate
from trellis.domains.segments.service import segment_service

SYSTEM = Actor.system("test")
# A Monday, 09:00 UTC.
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class World:
    """A database with a few helpers to put contacts, tags and segments in it."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._tags: dict[str, int] = {}

    async def contact(self, *, tags: Sequence[str] = (), **values: Any) -> int:
        values.setdefault("created_at", NOW)
        values.setdefault("updated_at", values["created_at"])
        values.setdefault("fields", {})
        values.setdefault("points", 0)
        values.setdefault("is_anonymous", False)
        async with self.database.unit_of_work() as session:
            contact = Contact(**values)
            session.add(contact)
            await session.flush()
            for name in tags:
                key = name.lower()
                if key not in self._tags:
                    tag = Tag(name=name, key=key, created_at=NOW)
                    session.add(tag)
                    await session.flush()
                    self._tags[key] = tag.id
                session.add(ContactTag(contact_id=contact.id, tag_id=self._tags[key]))
            return contact.id

    async def field(self, alias: str, type_: FieldType, *, object_: str = "contact") -> None:
        options = []
        if type_ in (FieldType.SELECT, FieldType.MULTISELECT):
            options = [{"value": v} for v in ("red", "green", "blue")]
        async with self.database.unit_of_work() as session:
            await field_service.create(
                session,
                data=FieldCreate.model_validate(
                    {
                        "object": object_,
                        "alias": alias,
                        "label": alias.title(),
                        "type": type_,
                        "options": options,
                    }
                ),
                actor=SYSTEM,
                now=NOW,
            )

    async def company(self, contact_id: int, *, primary: bool = True, **values: Any) -> int:
        values.setdefault("fields", {})
        async with self.database.unit_of_work() as session:
            company = Company(created_at=NOW, updated_at=NOW, **values)
            session.add(company)
            await session.flush()
            session.add(
                ContactCompany(
                    contact_id=contact_id, company_id=company.id, is_primary=primary, created_at=NOW
                )
            )
            return company.id

    async def dnc(self, contact_id: int, channel: str, reason: str) -> None:
        async with self.database.unit_of_work() as session:
            session.add(
                DoNotContact(contact_id=contact_id, channel=channel, reason=reason, created_at=NOW)
            )

    async def count(
        self, filters: dict[str, Any], *, now: datetime = NOW, default_timezone: str = "UTC"
    ) -> int:
        async with self.database.unit_of_work(read_only=True) as session:
            return await segment_service.count(
                session,
                filters=filters,
                actor=SYSTEM,
                now=now,
                default_timezone=default_timezone,
            )

    async def segment(self, name: str, *conditions: dict[str, Any], match: str = "all") -> int:
        async with self.database.unit_of_work() as session:
            segment = await segment_service.create(
                session,
                data=SegmentCreate(
                    name=name, filters={"match": match, "conditions": list(conditions)}
                ),
                actor=SYSTEM,
                now=NOW,
            )
            return segment.id

    async def members(self, segment_id: int) -> set[int]:
        async with self.database.unit_of_work(read_only=True) as session:
            rows = await session.scalars(
                select(SegmentMember.contact_id).where(
                    SegmentMember.segment_id == segment_id,
                    SegmentMember.manually_removed.is_(False),
                )
            )
            return set(rows.all())

    async def log(self, segment_id: int) -> list[tuple[int, str, bool]]:
        async with self.database.unit_of_work(read_only=True) as session:
            rows = await session.execute(
                select(
                    SegmentMembershipChange.contact_id,
                    SegmentMembershipChange.change,
                    SegmentMembershipChange.manual,
                )
                .where(SegmentMembershipChange.segment_id == segment_id)
                .order_by(SegmentMembershipChange.id)
            )
            return [(c, ch, m) for c, ch, m in rows.all()]


@pytest.fixture
def world(database: Database) -> World:
    return World(database)


def cond(type_: str, operator: str, value: Any = None, field: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"type": type_, "operator": operator}
    if field is not None:
        item["field"] = field
    if value is not None:
        item["value"] = value
    return item


def all_of(*conditions: dict[str, Any]) -> dict[str, Any]:
    return {"match": "all", "conditions": list(conditions)}


def any_of(*conditions: dict[str, Any]) -> dict[str, Any]:
    return {"match": "any", "conditions": list(conditions)}
