"""Every query of the segments domain, including the set-based membership rebuild.

A rebuild never loads contacts: for one segment and one slice of contacts (an id range,
optionally only those updated since a moment) it runs four statements, each computing the
difference in SQL:

1. log a leave for each automatic member that no longer matches,
2. delete those membership rows,
3. log a join for each matching contact that has no membership row,
4. insert those membership rows (on PostgreSQL 3 and 4 are one statement).

Leaves come first so that they only look at members the slice had before: on a first build
there are none to check.

Manually added members are never removed by a rebuild, and a manually removed row (which
is not a membership) keeps the contact out: neither step 1 nor 3 touches it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    String,
    and_,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    select,
    text,
    true,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from trellis.db.cleanup import delete_segment_rows
from trellis.db.dialect import dialect_name, insert_ignoring_conflicts
from trellis.db.models import Contact, Segment, SegmentMember, SegmentMembershipChange
from trellis.db.pagination import (
    Page,
    PageRequest,
    SortColumn,
    paginate,
)
from trellis.db.types import UTCDateTime
from trellis.kit.repository import EntityRepository

Member = SegmentMember
Log = SegmentMembershipChange


@dataclass(frozen=True)
class Slice:
    """Which contacts a rebuild step looks at: ids in [low, high), and optionally only those
    updated after ``updated_after``."""

    low: int
    high: int
    updated_after: datetime | None = None

    def contacts(self) -> ColumnElement[bool]:
        parts = [Contact.id >= self.low, Contact.id < self.high]
        if self.updated_after is not None:
            parts.append(Contact.updated_at > self.updated_after)
        return and_(*parts)

    def member_ids(self, column: Any) -> ColumnElement[bool]:
        parts = [column >= self.low, column < self.high]
        if self.updated_after is not None:
            parts.append(column.in_(select(Contact.id).where(self.contacts())))
        return and_(*parts)


@dataclass(frozen=True)
class ContactWindow:
    low: int
    high: int
    count: int
    last_updated_at: datetime | None


class SegmentRepository(EntityRepository[Segment]):
    model = Segment
    entity_type = "segment"
    search_columns = ("name", "alias")
    sort_columns = ("name", "alias", "created_at", "updated_at", "member_count")

    # -- segments ---------------------------------------------------------------------------

    async def by_alias(self, alias: str) -> Segment | None:
        return await self.session.scalar(select(Segment).where(Segment.alias == alias))

    async def aliases_like(self, prefix: str) -> set[str]:
        rows = await self.session.scalars(
            select(Segment.alias).where(Segment.alias.startswith(prefix, autoescape=True))
        )
        return set(rows.all())

    async def all_filters(self) -> list[tuple[int, str, bool, dict[str, Any]]]:
        """(id, name, is_published, filters) of every segment: a small table."""
        rows = await self.session.execute(
            select(Segment.id, Segment.name, Segment.is_published, Segment.filters).order_by(
                Segment.id
            )
        )
        return [(i, n, p, f or {}) for i, n, p, f in rows.all()]

    async def ids(self, *, where: ColumnElement[bool] | None = None) -> frozenset[int]:
        stmt = select(Segment.id)
        if where is not None:
            stmt = stmt.where(where)
        return frozenset((await self.session.scalars(stmt)).all())

    async def delete(self, segment: Segment) -> None:
        await delete_segment_rows(self.session, segment.id)
        await self.session.delete(segment)

    # -- counting and reading members -------------------------------------------------------

    async def count_matching(self, condition: ColumnElement[bool]) -> int:
        total = await self.session.scalar(
            select(func.count()).select_from(Contact).where(condition)
        )
        return int(total or 0)

    async def count_members(self, segment_id: int) -> int:
        total = await self.session.scalar(
            select(func.count())
            .select_from(Member)
            .where(Member.segment_id == segment_id, Member.manually_removed.is_(False))
        )
        return int(total or 0)

    async def refresh_statistics(self) -> None:
        """PostgreSQL: fresh planner statistics for the membership tables. After a bulk change
        (a first build) the planner would otherwise go on believing them nearly empty until
        autovacuum gets round to them, and read a whole segment to return one page of it."""
        if dialect_name(self.session) == "postgresql":
            await self.session.execute(text("ANALYZE segment_members, segment_membership_log"))

    async def set_built(self, segment_id: int, *, member_count: int, now: datetime | None) -> None:
        values: dict[str, Any] = {"member_count": member_count}
        if now is not None:
            values["last_built_at"] = now
        await self.session.execute(
            update(Segment)
            .where(Segment.id == segment_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    async def members_page(
        self,
        segment_id: int,
        *,
        page: PageRequest,
        contacts: ColumnElement[bool] | None = None,
    ) -> Page[Any]:
        stmt = (
            select(
                Member.contact_id,
                Contact.email,
                Contact.first_name,
                Contact.last_name,
                Member.added_at,
                Member.manually_added,
            )
            .join(Contact, Contact.id == Member.contact_id)
            .where(Member.segment_id == segment_id, Member.manually_removed.is_(False))
        )
        if contacts is not None:
            stmt = stmt.where(contacts)
        order: list[SortColumn] = [Member.added_at.desc(), Member.contact_id.desc()]
        return await paginate(self.session, stmt, page=page, order_by=order, scalars=False)

    async def segments_of_contact(
        self, contact_id: int, *, where: ColumnElement[bool] | None = None
    ) -> list[Any]:
        stmt = (
            select(
                Segment.id,
                Segment.name,
                Segment.alias,
                Segment.is_public,
                Segment.is_published,
                Member.added_at,
                Member.manually_added,
            )
            .join(Member, Member.segment_id == Segment.id)
            .where(Member.contact_id == contact_id, Member.manually_removed.is_(False))
            .order_by(Segment.name, Segment.id)
        )
        if where is not None:
            stmt = stmt.where(where)
        return list((await self.session.execute(stmt)).all())

    async def existing_contacts(
        self, ids: Sequence[int], *, where: ColumnElement[bool] | None = None
    ) -> set[int]:
        if not ids:
            return set()
        stmt = select(Contact.id).where(Contact.id.in_(list(ids)))
        if where is not None:
            stmt = stmt.where(where)
        return set((await self.session.scalars(stmt)).all())

    async def creators(self, segment_ids: Sequence[int]) -> dict[int, int | None]:
        if not segment_ids:
            return {}
        rows = await self.session.execute(
            select(Segment.id, Segment.created_by_id).where(Segment.id.in_(list(segment_ids)))
        )
        return {sid: creator for sid, creator in rows.all()}

    async def timezones(self, scope: ColumnElement[bool] | None = None) -> list[str]:
        """The distinct timezones of the contacts in scope (all contacts by default)."""
        stmt = select(Contact.timezone).where(Contact.timezone.is_not(None)).distinct()
        if scope is not None:
            stmt = stmt.where(scope)
        return [t for t in (await self.session.scalars(stmt)).all() if t]

    async def contact_window(self, *, updated_after: datetime | None = None) -> ContactWindow:
        """The id range (and the latest update) of all contacts, or of those updated after
        a moment."""
        stmt = select(
            func.min(Contact.id), func.max(Contact.id), func.count(), func.max(Contact.updated_at)
        )
        if updated_after is not None:
            stmt = stmt.where(Contact.updated_at > updated_after)
        low, high, count, last = (await self.session.execute(stmt)).one()
        return ContactWindow(
            low=int(low or 0), high=int(high or 0) + 1, count=int(count or 0), last_updated_at=last
        )

    # -- the rebuild ------------------------------------------------------------------------

    async def apply_joins(
        self, segment_id: int, condition: ColumnElement[bool], part: Slice, *, now: datetime
    ) -> int:
        """Add the matching contacts of the slice that have no membership row; returns how
        many joined, each with a join in the log."""
        matching = select(
            literal(segment_id),
            Contact.id,
            literal(now, UTCDateTime()),
            false(),
            false(),
        ).where(and_(part.contacts(), condition))
        member_columns = [
            "segment_id",
            "contact_id",
            "added_at",
            "manually_added",
            "manually_removed",
        ]
        log_columns = ["segment_id", "contact_id", "change", "manual", "occurred_at"]
        if dialect_name(self.session) == "postgresql":
            # One statement: the log takes exactly the rows the insert added, so the slice's
            # contacts are read and matched once and no anti-join is needed.
            added = (
                insert_ignoring_conflicts(self.session, Member.__table__)
                .from_select(member_columns, matching)
                .returning(Member.contact_id)
                .cte("added")
            )
            logged = await self.session.execute(
                insert(Log)
                .add_cte(added)
                .from_select(
                    log_columns,
                    select(
                        literal(segment_id),
                        added.c.contact_id,
                        literal("joined", String()),
                        false(),
                        literal(now, UTCDateTime()),
                    ),
                )
            )
            return int(getattr(logged, "rowcount", 0) or 0)
        has_row = exists(
            select(Member.contact_id).where(
                Member.segment_id == segment_id, Member.contact_id == Contact.id
            )
        )
        where = and_(part.contacts(), condition, ~has_row)
        logged = await self.session.execute(
            insert(Log).from_select(
                log_columns,
                select(
                    literal(segment_id),
                    Contact.id,
                    literal("joined", String()),
                    false(),
                    literal(now, UTCDateTime()),
                ).where(where),
            )
        )
        joined = int(getattr(logged, "rowcount", 0) or 0)
        if joined:
            await self.session.execute(
                # No anti-join on the table being filled: existing rows (kept or removed
                # by hand) are skipped by the conflict, and the planner cannot pick a
                # quadratic plan over a table it believes empty.
                insert_ignoring_conflicts(self.session, Member.__table__).from_select(
                    member_columns, matching
                )
            )
        return joined

    async def apply_leaves(
        self, segment_id: int, condition: ColumnElement[bool], part: Slice, *, now: datetime
    ) -> int:
        """Remove the automatic members of the slice that no longer match."""
        still_matches = exists(select(Contact.id).where(Contact.id == Member.contact_id, condition))
        leaving = and_(
            Member.segment_id == segment_id,
            part.member_ids(Member.contact_id),
            Member.manually_added.is_(False),
            Member.manually_removed.is_(False),
            ~still_matches,
        )
        logged = await self.session.execute(
            insert(Log).from_select(
                ["segment_id", "contact_id", "change", "manual", "occurred_at"],
                select(
                    literal(segment_id),
                    Member.contact_id,
                    literal("left", String()),
                    false(),
                    literal(now, UTCDateTime()),
                ).where(leaving),
            )
        )
        left = int(getattr(logged, "rowcount", 0) or 0)
        if left:
            await self.session.execute(
                delete(Member).where(leaving).execution_options(synchronize_session=False)
            )
        return left

    # -- manual changes ---------------------------------------------------------------------

    async def add_manually(
        self, segment_id: int, contact_ids: Sequence[int], *, now: datetime
    ) -> int:
        """Make the contacts members that no rebuild removes; returns how many joined."""
        ids = list(contact_ids)
        is_member = exists(
            select(Member.contact_id).where(
                Member.segment_id == segment_id,
                Member.contact_id == Contact.id,
                Member.manually_removed.is_(False),
            )
        )
        logged = await self.session.execute(
            insert(Log).from_select(
                ["segment_id", "contact_id", "change", "manual", "occurred_at"],
                select(
                    literal(segment_id),
                    Contact.id,
                    literal("joined", String()),
                    true(),
                    literal(now, UTCDateTime()),
                ).where(Contact.id.in_(ids), ~is_member),
            )
        )
        joined = int(getattr(logged, "rowcount", 0) or 0)
        await self.session.execute(
            update(Member)
            .where(
                Member.segment_id == segment_id,
                Member.contact_id.in_(ids),
                Member.manually_removed.is_(True),
            )
            .values(manually_removed=False, manually_added=True, added_at=now)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(
            update(Member)
            .where(
                Member.segment_id == segment_id,
                Member.contact_id.in_(ids),
                Member.manually_added.is_(False),
            )
            .values(manually_added=True)
            .execution_options(synchronize_session=False)
        )
        await self._insert_rows(segment_id, ids, now=now, removed=False)
        return joined

    async def remove_manually(
        self, segment_id: int, contact_ids: Sequence[int], *, now: datetime
    ) -> int:
        """Take the contacts out for good: the row stays, marked removed, so that no rebuild
        adds them again. Returns how many left."""
        ids = list(contact_ids)
        logged = await self.session.execute(
            insert(Log).from_select(
                ["segment_id", "contact_id", "change", "manual", "occurred_at"],
                select(
                    literal(segment_id),
                    Member.contact_id,
                    literal("left", String()),
                    true(),
                    literal(now, UTCDateTime()),
                ).where(
                    Member.segment_id == segment_id,
                    Member.contact_id.in_(ids),
                    Member.manually_removed.is_(False),
                ),
            )
        )
        left = int(getattr(logged, "rowcount", 0) or 0)
        await self.session.execute(
            update(Member)
            .where(Member.segment_id == segment_id, Member.contact_id.in_(ids))
            .values(manually_removed=True, manually_added=False)
            .execution_options(synchronize_session=False)
        )
        await self._insert_rows(segment_id, ids, now=now, removed=True)
        return left

    async def _insert_rows(
        self, segment_id: int, ids: list[int], *, now: datetime, removed: bool
    ) -> None:
        has_row = exists(
            select(Member.contact_id).where(
                Member.segment_id == segment_id, Member.contact_id == Contact.id
            )
        )
        await self.session.execute(
            insert_ignoring_conflicts(self.session, Member.__table__).from_select(
                ["segment_id", "contact_id", "added_at", "manually_added", "manually_removed"],
                select(
                    literal(segment_id),
                    Contact.id,
                    literal(now, UTCDateTime()),
                    literal(not removed),
                    literal(removed),
                ).where(Contact.id.in_(ids), ~has_row),
            )
        )

    # -- contacts merging -------------------------------------------------------------------

    async def move_memberships(self, *, loser_id: int, winner_id: int) -> None:
        """Give the winner the loser's memberships it lacks, and the loser's history."""
        loser = select(
            Member.segment_id,
            literal(winner_id),
            Member.added_at,
            Member.manually_added,
            Member.manually_removed,
        ).where(Member.contact_id == loser_id)
        await self.session.execute(
            insert_ignoring_conflicts(self.session, Member.__table__).from_select(
                ["segment_id", "contact_id", "added_at", "manually_added", "manually_removed"],
                loser,
            )
        )
        await self.session.execute(
            update(Log)
            .where(Log.contact_id == loser_id)
            .values(contact_id=winner_id)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(
            delete(Member)
            .where(Member.contact_id == loser_id)
            .execution_options(synchronize_session=False)
        )

    async def membership_log(
        self, contact_id: int, *, limit: int, before: datetime | None = None
    ) -> list[Any]:
        stmt = (
            select(Log.id, Log.occurred_at, Log.change, Log.manual, Log.segment_id, Segment.name)
            .join(Segment, Segment.id == Log.segment_id)
            .where(Log.contact_id == contact_id)
            .order_by(Log.id.desc())
            .limit(limit)
        )
        if before is not None:
            stmt = stmt.where(Log.occurred_at < before)
        return list((await self.session.execute(stmt)).all())
