"""Every contact query. Work on many contacts is one statement per batch, never a loop of
ORM objects: this is what lets imports, segment rebuilds and campaign actions scale."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, insert, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from trellis.db.base import table_of
from trellis.db.bulk import among, insert_rows
from trellis.db.cleanup import delete_contact_rows, delete_tag_rows
from trellis.db.dialect import dialect_name, ids_in, insert_ignoring_conflicts
from trellis.db.json import value_text
from trellis.db.models import (
    Company,
    Contact,
    ContactActivity,
    ContactCompany,
    ContactMerge,
    ContactTag,
    DoNotContact,
    PointsChange,
    Tag,
)
from trellis.db.pagination import Page, PageRequest, order_by_sort, paginate
from trellis.db.types import UTCDateTime

# Rows per multi-row statement: large enough to amortise round trips, small enough to stay
# under SQLite's bound-parameter limit with every column.
CHUNK = 500


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class ContactRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- single contacts ----------------------------------------------------------------

    async def get(self, contact_id: int) -> Contact | None:
        return await self.session.get(Contact, contact_id)

    async def merged_into(self, contact_id: int) -> int | None:
        return await self.session.scalar(
            select(ContactMerge.winner_id).where(ContactMerge.loser_id == contact_id)
        )

    def add(self, contact: Contact) -> None:
        self.session.add(contact)

    async def delete(self, contact: Contact) -> None:
        await delete_contact_rows(self.session, [contact.id])
        await self.session.delete(contact)

    async def list_page(
        self,
        *,
        page: PageRequest,
        q: str | None,
        tag: str | None,
        owner_id: int | None,
        stage_id: int | None,
        company_id: int | None = None,
        visible_owner_id: int | None = None,
    ) -> Page[Contact]:
        stmt = select(Contact)
        if q:
            pattern = f"%{q.strip().lower()}%"
            full_name = func.lower(
                func.coalesce(Contact.first_name, "") + " " + func.coalesce(Contact.last_name, "")
            )
            stmt = stmt.where(
                or_(
                    Contact.email.like(pattern),
                    full_name.like(pattern),
                    func.lower(func.coalesce(Contact.company_name, "")).like(pattern),
                )
            )
        if tag:
            stmt = stmt.where(
                Contact.id.in_(
                    select(ContactTag.contact_id)
                    .join(Tag, Tag.id == ContactTag.tag_id)
                    .where(Tag.key == tag.strip().lower())
                )
            )
        if owner_id is not None:
            stmt = stmt.where(Contact.owner_id == owner_id)
        if stage_id is not None:
            stmt = stmt.where(Contact.stage_id == stage_id)
        if company_id is not None:
            stmt = stmt.where(
                Contact.id.in_(
                    select(ContactCompany.contact_id).where(ContactCompany.company_id == company_id)
                )
            )
        if visible_owner_id is not None:
            stmt = stmt.where(Contact.owner_id == visible_owner_id)
        order = order_by_sort(
            page.sort,
            allowed={
                "id": Contact.id,
                "email": Contact.email,
                "last_name": Contact.last_name,
                "first_name": Contact.first_name,
                "points": Contact.points,
                "created_at": Contact.created_at,
                "updated_at": Contact.updated_at,
                "last_active_at": Contact.last_active_at,
            },
            default="-id",
            tiebreaker=Contact.id,
        )
        return await paginate(self.session, stmt, page=page, order_by=order)

    # -- lookups for upserts --------------------------------------------------------------

    async def ids_by_email(self, emails: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for part in chunks(list(emails), 5000):
            rows = await self.session.execute(
                select(Contact.email, Contact.id).where(among(self.session, Contact.email, part))
            )
            found.update({email: cid for email, cid in rows.all() if email is not None})
        return found

    async def ids_by_field(self, alias: str, values: Sequence[str]) -> dict[str, int]:
        """Contacts by an identifying custom field's value (compared as text)."""
        found: dict[str, int] = {}
        column = value_text(Contact.fields, alias)
        for part in chunks(list(values)):
            rows = await self.session.execute(select(column, Contact.id).where(column.in_(part)))
            for value, cid in rows.all():
                if value is not None:
                    found.setdefault(str(value), cid)
        return found

    async def rows_by_ids(self, ids: Sequence[int]) -> dict[int, Contact]:
        found: dict[int, Contact] = {}
        for part in chunks(list(ids)):
            rows = await self.session.scalars(select(Contact).where(ids_in(Contact.id, part)))
            found.update({c.id: c for c in rows.all()})
        return found

    async def existing_ids(
        self, ids: Sequence[int], *, where: ColumnElement[bool] | None = None
    ) -> set[int]:
        found: set[int] = set()
        for part in chunks(list(ids)):
            stmt = select(Contact.id).where(ids_in(Contact.id, part))
            if where is not None:
                stmt = stmt.where(where)
            found.update((await self.session.scalars(stmt)).all())
        return found

    # -- set-based writes -----------------------------------------------------------------

    async def insert_many(self, rows: Sequence[Mapping[str, Any]]) -> list[int]:
        """Insert contacts; returns their ids in the order given. Values go to the driver in
        bulk (COPY on PostgreSQL, one prepared statement on SQLite), not row by row."""
        ids: list[int] = []
        table = cast(Table, Contact.__table__)
        for part in chunks(list(rows), 5000):
            ids.extend(await insert_rows(self.session, table, part))
        return ids

    async def update_many(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Update contacts by id; each row holds ``id`` and the columns to set."""
        by_shape: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
        for row in rows:
            by_shape.setdefault(tuple(sorted(row)), []).append(row)
        table = cast(Table, Contact.__table__)
        for shape, group in by_shape.items():
            columns = [c for c in shape if c != "id"]
            if not columns:
                continue
            statement = (
                update(table)
                .where(table.c.id == bindparam("_id"))
                .values({c: bindparam(c) for c in columns})
            )
            params = [{**{c: r[c] for c in columns}, "_id": r["id"]} for r in group]
            for part in chunks(params):
                await self.session.execute(statement, list(part))

    async def touch(self, contact_ids: Sequence[int], now: datetime) -> None:
        """Mark contacts changed: segment rebuilds and caches key off ``updated_at``.

        Rows already marked at this instant (by an earlier statement of the same unit of work)
        are left alone: rewriting them would only cost another row version."""
        for part in chunks(list(contact_ids), 20000):
            await self.session.execute(
                update(table_of(Contact))
                .where(ids_in(Contact.id, part), Contact.updated_at != now)
                .values(updated_at=now, version=Contact.version + 1)
            )

    async def delete_ids(self, contact_ids: Sequence[int]) -> int:
        deleted = 0
        for part in chunks(list(contact_ids), 5000):
            await delete_contact_rows(self.session, part)
            result = await self.session.execute(delete(Contact).where(ids_in(Contact.id, part)))
            deleted += int(getattr(result, "rowcount", 0) or 0)
        return deleted

    # -- tags -------------------------------------------------------------------------------

    async def ensure_tags(self, names: Iterable[str], now: datetime) -> dict[str, int]:
        """Tag ids by lower-cased name, creating the missing tags."""
        wanted = {n.strip().lower(): n.strip() for n in names if n.strip()}
        if not wanted:
            return {}
        rows = [{"name": name, "key": key, "created_at": now} for key, name in wanted.items()]
        for part in chunks(rows):
            await self.session.execute(insert_ignoring_conflicts(self.session, Tag), list(part))
        found: dict[str, int] = {}
        for part in chunks(list(wanted)):
            result = await self.session.execute(select(Tag.key, Tag.id).where(Tag.key.in_(part)))
            found.update(dict(result.all()))
        return found

    async def add_tags(self, pairs: Sequence[tuple[int, int]]) -> None:
        rows = [{"contact_id": c, "tag_id": t} for c, t in pairs]
        for part in chunks(rows, 2000):
            await self.session.execute(
                insert_ignoring_conflicts(self.session, ContactTag), list(part)
            )

    async def tag_contacts(self, contact_ids: Sequence[int], tag_id: int) -> None:
        """Give many contacts one tag: one INSERT ... SELECT per slice."""
        for part in chunks(list(contact_ids), 20000):
            await self.session.execute(
                insert_ignoring_conflicts(self.session, ContactTag).from_select(
                    ["contact_id", "tag_id"],
                    select(Contact.id, literal(tag_id)).where(ids_in(Contact.id, part)),
                )
            )

    async def remove_tags(self, contact_ids: Sequence[int], tag_ids: Sequence[int]) -> None:
        if not tag_ids:
            return
        for part in chunks(list(contact_ids), 5000):
            await self.session.execute(
                delete(ContactTag).where(
                    ids_in(ContactTag.contact_id, part), ContactTag.tag_id.in_(tag_ids)
                )
            )

    async def clear_tags(self, contact_id: int) -> None:
        await self.session.execute(delete(ContactTag).where(ContactTag.contact_id == contact_id))

    async def tags_of(self, contact_ids: Sequence[int]) -> dict[int, list[str]]:
        result: dict[int, list[str]] = {c: [] for c in contact_ids}
        for part in chunks(list(contact_ids)):
            rows = await self.session.execute(
                select(ContactTag.contact_id, Tag.name)
                .join(Tag, Tag.id == ContactTag.tag_id)
                .where(ids_in(ContactTag.contact_id, part))
                .order_by(Tag.key)
            )
            for cid, name in rows.all():
                result[cid].append(name)
        return result

    async def tag_ids(self, names: Iterable[str]) -> list[int]:
        keys = [n.strip().lower() for n in names if n.strip()]
        if not keys:
            return []
        return list((await self.session.scalars(select(Tag.id).where(Tag.key.in_(keys)))).all())

    async def list_tags(self, *, q: str | None, page: PageRequest) -> Page[Any]:
        counts = (
            select(ContactTag.tag_id, func.count().label("contacts"))
            .group_by(ContactTag.tag_id)
            .subquery()
        )
        stmt = select(
            Tag.id, Tag.name, func.coalesce(counts.c.contacts, 0).label("contacts")
        ).outerjoin(counts, counts.c.tag_id == Tag.id)
        if q:
            stmt = stmt.where(Tag.key.like(f"%{q.strip().lower()}%"))
        order = order_by_sort(
            page.sort, allowed={"name": Tag.key}, default="name", tiebreaker=Tag.id
        )
        return await paginate(self.session, stmt, page=page, order_by=order, scalars=False)

    async def get_tag(self, tag_id: int) -> Tag | None:
        return await self.session.get(Tag, tag_id)

    async def tag_by_key(self, key: str) -> Tag | None:
        return await self.session.scalar(select(Tag).where(Tag.key == key))

    async def delete_tag(self, tag: Tag) -> None:
        await delete_tag_rows(self.session, tag.id)
        await self.session.delete(tag)

    async def contacts_with_tag(self, tag_id: int) -> list[int]:
        return list(
            (
                await self.session.scalars(
                    select(ContactTag.contact_id).where(ContactTag.tag_id == tag_id)
                )
            ).all()
        )

    # -- points -----------------------------------------------------------------------------

    async def add_points(
        self,
        contact_ids: Sequence[int],
        delta: int,
        *,
        reason: str,
        source_type: str | None,
        source_id: int | None,
        now: datetime,
    ) -> None:
        """Change points for many contacts and record each change: on PostgreSQL in one
        statement (the history takes the ids the update returns), elsewhere in two."""
        postgres = dialect_name(self.session) == "postgresql"
        for part in chunks(list(contact_ids), 5000):
            changed = (
                update(table_of(Contact))
                .where(ids_in(Contact.id, part))
                .values(points=Contact.points + delta, updated_at=now, version=Contact.version + 1)
            )
            if postgres:
                updated = changed.returning(Contact.id).cte("changed")
                ids: Any = updated.c.id
                history = insert(PointsChange).add_cte(updated)
            else:
                await self.session.execute(changed)
                ids, history = Contact.id, insert(PointsChange)
            source = select(
                ids,
                literal(delta),
                literal(reason),
                literal(source_type),
                literal(source_id),
                literal(now, type_=UTCDateTime()),
            )
            if not postgres:
                source = source.where(ids_in(Contact.id, part))
            await self.session.execute(
                history.from_select(
                    ["contact_id", "delta", "reason", "source_type", "source_id", "occurred_at"],
                    source,
                )
            )

    async def record_points(self, rows: Sequence[Mapping[str, Any]]) -> None:
        for part in chunks(list(rows), 2000):
            await self.session.execute(insert(table_of(PointsChange)), list(part))

    # -- DNC --------------------------------------------------------------------------------

    async def dnc_of(self, contact_ids: Sequence[int]) -> dict[int, list[DoNotContact]]:
        result: dict[int, list[DoNotContact]] = {c: [] for c in contact_ids}
        for part in chunks(list(contact_ids)):
            rows = await self.session.scalars(
                select(DoNotContact)
                .where(ids_in(DoNotContact.contact_id, part))
                .order_by(DoNotContact.channel)
            )
            for row in rows.all():
                result[row.contact_id].append(row)
        return result

    async def add_dnc(self, rows: Sequence[Mapping[str, Any]]) -> None:
        for part in chunks(list(rows), 2000):
            await self.session.execute(
                insert_ignoring_conflicts(self.session, DoNotContact), list(part)
            )

    async def remove_dnc(self, contact_ids: Sequence[int], channel: str) -> list[int]:
        removed: list[int] = []
        for part in chunks(list(contact_ids), 5000):
            ids = await self.session.scalars(
                select(DoNotContact.contact_id).where(
                    ids_in(DoNotContact.contact_id, part), DoNotContact.channel == channel
                )
            )
            found = list(ids.all())
            if found:
                await self.session.execute(
                    delete(DoNotContact).where(
                        DoNotContact.contact_id.in_(found), DoNotContact.channel == channel
                    )
                )
            removed.extend(found)
        return removed

    # -- companies --------------------------------------------------------------------------

    async def companies_of(
        self, contact_ids: Sequence[int]
    ) -> dict[int, list[tuple[int, str, bool]]]:
        result: dict[int, list[tuple[int, str, bool]]] = {c: [] for c in contact_ids}
        for part in chunks(list(contact_ids)):
            rows = await self.session.execute(
                select(
                    ContactCompany.contact_id, Company.id, Company.name, ContactCompany.is_primary
                )
                .join(Company, Company.id == ContactCompany.company_id)
                .where(ids_in(ContactCompany.contact_id, part))
                .order_by(ContactCompany.is_primary.desc(), Company.name)
            )
            for cid, company_id, name, primary in rows.all():
                result[cid].append((company_id, name, primary))
        return result

    async def link_company(
        self, contact_ids: Sequence[int], company_id: int, *, primary: bool, now: datetime
    ) -> None:
        if primary:
            for part in chunks(list(contact_ids), 5000):
                await self.session.execute(
                    update(table_of(ContactCompany))
                    .where(ids_in(ContactCompany.contact_id, part))
                    .values(is_primary=False)
                )
        rows = [
            {"contact_id": c, "company_id": company_id, "is_primary": primary, "created_at": now}
            for c in contact_ids
        ]
        for part in chunks(rows, 2000):
            await self.session.execute(
                insert_ignoring_conflicts(self.session, ContactCompany), list(part)
            )
        if primary:
            for part in chunks(list(contact_ids), 5000):
                await self.session.execute(
                    update(table_of(ContactCompany))
                    .where(
                        ids_in(ContactCompany.contact_id, part),
                        ContactCompany.company_id == company_id,
                    )
                    .values(is_primary=True)
                )

    async def unlink_company(self, contact_ids: Sequence[int], company_id: int) -> None:
        for part in chunks(list(contact_ids), 5000):
            await self.session.execute(
                delete(ContactCompany).where(
                    ids_in(ContactCompany.contact_id, part), ContactCompany.company_id == company_id
                )
            )

    # -- activity ---------------------------------------------------------------------------

    async def record_activity(self, rows: Sequence[Mapping[str, Any]]) -> None:
        for part in chunks(list(rows), 1000):
            await self.session.execute(insert(table_of(ContactActivity)), list(part))

    async def activity(
        self, contact_id: int, *, before: datetime | None, limit: int
    ) -> list[ContactActivity]:
        stmt = select(ContactActivity).where(ContactActivity.contact_id == contact_id)
        if before is not None:
            stmt = stmt.where(ContactActivity.occurred_at < before)
        stmt = stmt.order_by(ContactActivity.occurred_at.desc(), ContactActivity.id.desc()).limit(
            limit
        )
        return list((await self.session.scalars(stmt)).all())

    async def points_history(
        self, contact_id: int, *, before: datetime | None, limit: int
    ) -> list[PointsChange]:
        stmt = select(PointsChange).where(PointsChange.contact_id == contact_id)
        if before is not None:
            stmt = stmt.where(PointsChange.occurred_at < before)
        stmt = stmt.order_by(PointsChange.occurred_at.desc(), PointsChange.id.desc()).limit(limit)
        return list((await self.session.scalars(stmt)).all())

    # -- merging ----------------------------------------------------------------------------

    async def move_history(self, *, loser_id: int, winner_id: int, now: datetime) -> None:
        """Re-point the loser's history and links at the winner; union link tables."""
        for model in (ContactActivity, PointsChange):
            await self.session.execute(
                update(model).where(model.contact_id == loser_id).values(contact_id=winner_id)
            )
        # Link tables: copy what the winner lacks, then drop the loser's rows.
        tags = select(literal(winner_id), ContactTag.tag_id).where(
            ContactTag.contact_id == loser_id
        )
        await self.session.execute(
            insert_ignoring_conflicts(self.session, ContactTag).from_select(
                ["contact_id", "tag_id"], tags
            )
        )
        companies = select(
            literal(winner_id),
            ContactCompany.company_id,
            literal(False),
            literal(now, type_=UTCDateTime()),
        ).where(ContactCompany.contact_id == loser_id)
        await self.session.execute(
            insert_ignoring_conflicts(self.session, ContactCompany).from_select(
                ["contact_id", "company_id", "is_primary", "created_at"], companies
            )
        )
        dnc = select(
            literal(winner_id),
            DoNotContact.channel,
            DoNotContact.reason,
            DoNotContact.comment,
            DoNotContact.source_type,
            DoNotContact.source_id,
            DoNotContact.created_at,
        ).where(DoNotContact.contact_id == loser_id)
        await self.session.execute(
            insert_ignoring_conflicts(self.session, DoNotContact).from_select(
                [
                    "contact_id",
                    "channel",
                    "reason",
                    "comment",
                    "source_type",
                    "source_id",
                    "created_at",
                ],
                dnc,
            )
        )
        await self.session.execute(
            update(ContactMerge)
            .where(ContactMerge.winner_id == loser_id)
            .values(winner_id=winner_id)
        )
        self.session.add(ContactMerge(loser_id=loser_id, winner_id=winner_id, merged_at=now))
