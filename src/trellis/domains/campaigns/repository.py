from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from trellis.db.base import table_of
from trellis.db.bulk import insert_from_arrays
from trellis.db.cleanup import delete_campaign_rows
from trellis.db.dialect import ids_in, insert_ignoring_conflicts
from trellis.db.models import (
    Campaign,
    CampaignEvent,
    CampaignMember,
    CampaignPublishPeriod,
    CampaignSource,
    Contact,
    ContactEvent,
    EventLog,
    EventStats,
    SegmentMember,
    SegmentMembershipChange,
)
from trellis.db.pagination import Page, PageRequest, order_by_sort, paginate
from trellis.kit.repository import EntityRepository

CHUNK = 20000


def _chunks(items: Sequence[Any], size: int = CHUNK) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


class CampaignRepository(EntityRepository[Campaign]):
    model = Campaign
    entity_type = "campaign"
    default_sort = "-updated_at"

    # -- campaigns ------------------------------------------------------------------------

    async def published(
        self, *, now: datetime, campaign_ids: Sequence[int] | None = None
    ) -> list[Campaign]:
        stmt = select(Campaign).where(
            Campaign.is_published,
            or_(Campaign.publish_up.is_(None), Campaign.publish_up <= now),
            or_(Campaign.publish_down.is_(None), Campaign.publish_down > now),
        )
        if campaign_ids is not None:
            stmt = stmt.where(Campaign.id.in_(campaign_ids))
        return list((await self.session.scalars(stmt.order_by(Campaign.id))).all())

    def add(self, item: Any) -> None:
        """A campaign, or one of its steps, sources or publication periods."""
        self.session.add(item)

    async def delete(self, campaign: Campaign) -> None:
        await delete_campaign_rows(self.session, campaign.id)
        await self.session.delete(campaign)

    # -- events and sources -----------------------------------------------------------------

    async def events(
        self, campaign_id: int, *, include_deleted: bool = False
    ) -> list[CampaignEvent]:
        stmt = select(CampaignEvent).where(CampaignEvent.campaign_id == campaign_id)
        if not include_deleted:
            stmt = stmt.where(CampaignEvent.deleted_at.is_(None))
        return list((await self.session.scalars(stmt.order_by(CampaignEvent.id))).all())

    async def sources(self, campaign_id: int) -> list[CampaignSource]:
        rows = await self.session.scalars(
            select(CampaignSource)
            .where(CampaignSource.campaign_id == campaign_id)
            .order_by(CampaignSource.kind, CampaignSource.source_id)
        )
        return list(rows.all())

    async def with_source(self, kind: str, source_id: int) -> list[Campaign]:
        """The campaigns having this source (a form, say), by id."""
        rows = await self.session.scalars(
            select(Campaign)
            .join(CampaignSource, CampaignSource.campaign_id == Campaign.id)
            .where(CampaignSource.kind == kind, CampaignSource.source_id == source_id)
            .order_by(Campaign.id)
        )
        return list(rows.all())

    async def delete_sources(self, campaign_id: int) -> None:
        for source in await self.sources(campaign_id):
            await self.session.delete(source)
        await self.session.flush()

    async def stats(self, campaign_id: int) -> dict[int, EventStats]:
        rows = await self.session.scalars(
            select(EventStats).where(EventStats.campaign_id == campaign_id)
        )
        return {row.event_id: row for row in rows.all()}

    async def ensure_stats(self, campaign_id: int, event_ids: Sequence[int]) -> None:
        rows = [
            {
                "event_id": e,
                "campaign_id": campaign_id,
                "scheduled": 0,
                "waiting": 0,
                "done": 0,
                "warned": 0,
                "failed": 0,
                "dead": 0,
                "yes": 0,
                "no": 0,
                "cancelled": 0,
            }
            for e in event_ids
        ]
        if rows:
            await self.session.execute(insert_ignoring_conflicts(self.session, EventStats), rows)

    async def open_counts(self, event_ids: Sequence[int]) -> dict[int, int]:
        """Contacts waiting at each event (scheduled or waiting steps)."""
        if not event_ids:
            return {}
        rows = await self.session.execute(
            select(EventLog.event_id, func.count())
            .where(EventLog.event_id.in_(event_ids), EventLog.status.in_([1, 2, 3]))
            .group_by(EventLog.event_id)
        )
        return {event_id: count for event_id, count in rows.all()}

    async def open_steps(self, event_id: int) -> list[tuple[int, int]]:
        rows = await self.session.execute(
            select(EventLog.contact_id, EventLog.rotation).where(
                EventLog.event_id == event_id, EventLog.status.in_([1, 2])
            )
        )
        return [(c, r) for c, r in rows.all()]

    # -- members ------------------------------------------------------------------------------

    async def members(
        self, campaign_id: int, contact_ids: Sequence[int]
    ) -> dict[int, CampaignMember]:
        found: dict[int, CampaignMember] = {}
        for part in _chunks(list(contact_ids)):
            rows = await self.session.scalars(
                select(CampaignMember).where(
                    CampaignMember.campaign_id == campaign_id,
                    ids_in(CampaignMember.contact_id, part),
                )
            )
            found.update({m.contact_id: m for m in rows.all()})
        return found

    async def insert_members(
        self, campaign_id: int, contact_ids: Sequence[int], *, manual: bool, now: datetime
    ) -> list[int]:
        """New members in one statement; returns those inserted (not already there)."""
        inserted: list[int] = []
        for part in _chunks(list(contact_ids)):
            inserted.extend(
                await insert_from_arrays(
                    self.session,
                    table_of(CampaignMember),
                    constants={
                        "campaign_id": campaign_id,
                        "rotation": 1,
                        "status": "active",
                        "manually_added": manual,
                        "joined_at": now,
                    },
                    arrays={"contact_id": list(part)},
                    returning="contact_id",
                )
            )
        return inserted

    async def restart_members(
        self, campaign_id: int, contact_ids: Sequence[int], *, manual: bool | None, now: datetime
    ) -> None:
        values: dict[str, Any] = {
            "rotation": CampaignMember.rotation + 1,
            "status": "active",
            "joined_at": now,
            "left_at": None,
        }
        if manual is not None:
            values["manually_added"] = manual
        for part in _chunks(list(contact_ids)):
            await self.session.execute(
                update(table_of(CampaignMember))
                .where(
                    CampaignMember.campaign_id == campaign_id,
                    ids_in(CampaignMember.contact_id, part),
                )
                .values(values)
            )

    async def leave(
        self, campaign_id: int, contact_ids: Sequence[int], *, status: str, now: datetime
    ) -> None:
        for part in _chunks(list(contact_ids)):
            await self.session.execute(
                update(table_of(CampaignMember))
                .where(
                    CampaignMember.campaign_id == campaign_id,
                    ids_in(CampaignMember.contact_id, part),
                    CampaignMember.status == "active",
                )
                .values(status=status, left_at=now, manually_added=False)
            )

    async def bump_rotation(self, campaign_id: int, contact_ids: Sequence[int]) -> dict[int, int]:
        rotations: dict[int, int] = {}
        for part in _chunks(list(contact_ids)):
            result = await self.session.execute(
                update(table_of(CampaignMember))
                .where(
                    CampaignMember.campaign_id == campaign_id,
                    ids_in(CampaignMember.contact_id, part),
                    CampaignMember.status == "active",
                )
                .values(rotation=CampaignMember.rotation + 1)
                .returning(CampaignMember.contact_id, CampaignMember.rotation)
            )
            rotations.update({cid: rot for cid, rot in result.all()})
        return rotations

    async def member_counts(self, campaign_ids: Sequence[int]) -> dict[int, int]:
        if not campaign_ids:
            return {}
        rows = await self.session.execute(
            select(CampaignMember.campaign_id, func.count())
            .where(CampaignMember.campaign_id.in_(campaign_ids), CampaignMember.status == "active")
            .group_by(CampaignMember.campaign_id)
        )
        return {cid: count for cid, count in rows.all()}

    async def members_page(
        self, campaign_id: int, *, page: PageRequest, status: str | None
    ) -> Page[Any]:
        where = [CampaignMember.campaign_id == campaign_id]
        if status is not None:
            where.append(CampaignMember.status == status)
        order = order_by_sort(
            page.sort,
            allowed={
                "joined_at": CampaignMember.joined_at,
                "contact_id": CampaignMember.contact_id,
            },
            default="-joined_at",
            tiebreaker=CampaignMember.contact_id,
        )
        # Counted without the join to contacts (every member has its contact: the foreign key
        # cascades): with a million members the count reads the primary key alone.
        total = await self.session.scalar(
            select(func.count()).select_from(CampaignMember).where(*where)
        )
        rows = await self.session.execute(
            select(CampaignMember, Contact.email, Contact.first_name, Contact.last_name)
            .join(Contact, Contact.id == CampaignMember.contact_id)
            .where(*where)
            .order_by(*order)
            .limit(page.size)
            .offset(page.offset)
        )
        return Page(
            items=list(rows.all()), total=int(total or 0), number=page.number, size=page.size
        )

    async def open_steps_of(
        self, campaign_id: int, contact_ids: Sequence[int]
    ) -> dict[int, list[int]]:
        # Through the primary key, status filtered here (see open_steps_detail).
        return {
            cid: [event_id for event_id, _, _ in steps]
            for cid, steps in (await self.open_steps_detail(campaign_id, contact_ids)).items()
        }

    async def move_contact(self, *, loser_id: int, winner_id: int) -> None:
        """Give the winner of a merge the loser's memberships and steps in campaigns the
        winner is not in; the rest are the loser's and go with it."""
        theirs = select(CampaignMember.campaign_id).where(CampaignMember.contact_id == winner_id)
        await self.session.execute(
            update(table_of(EventLog))
            .where(EventLog.contact_id == loser_id, EventLog.campaign_id.not_in(theirs))
            .values(contact_id=winner_id)
        )
        await self.session.execute(
            update(table_of(CampaignMember))
            .where(CampaignMember.contact_id == loser_id, CampaignMember.campaign_id.not_in(theirs))
            .values(contact_id=winner_id)
        )

    async def finished_steps(
        self, contact_id: int, *, before: datetime | None, limit: int
    ) -> list[tuple[EventLog, str, str]]:
        stmt = (
            select(EventLog, CampaignEvent.name, CampaignEvent.type)
            .join(CampaignEvent, CampaignEvent.id == EventLog.event_id)
            .where(EventLog.contact_id == contact_id, EventLog.done_at.is_not(None))
        )
        if before is not None:
            stmt = stmt.where(EventLog.done_at < before)
        rows = await self.session.execute(stmt.order_by(EventLog.done_at.desc()).limit(limit))
        return [(step, name, type_) for step, name, type_ in rows.all()]

    async def contact_memberships(self, contact_id: int) -> list[tuple[CampaignMember, str]]:
        rows = await self.session.execute(
            select(CampaignMember, Campaign.name)
            .join(Campaign, Campaign.id == CampaignMember.campaign_id)
            .where(CampaignMember.contact_id == contact_id)
            .order_by(CampaignMember.joined_at.desc())
        )
        return [(m, name) for m, name in rows.all()]

    async def active_member_ids(self, campaign_id: int, contact_ids: Sequence[int]) -> set[int]:
        return set((await self.members_with_status(campaign_id, contact_ids, "active")).keys())

    async def members_with_status(
        self, campaign_id: int, contact_ids: Sequence[int], status: str
    ) -> dict[int, int]:
        found: dict[int, int] = {}
        for part in _chunks(list(contact_ids)):
            rows = await self.session.execute(
                select(CampaignMember.contact_id, CampaignMember.rotation).where(
                    CampaignMember.campaign_id == campaign_id,
                    ids_in(CampaignMember.contact_id, part),
                    CampaignMember.status == status,
                )
            )
            found.update({c: r for c, r in rows.all()})
        return found

    # -- journeys -----------------------------------------------------------------------------

    async def journey(self, campaign_id: int, contact_id: int) -> list[EventLog]:
        rows = await self.session.scalars(
            select(EventLog)
            .where(EventLog.campaign_id == campaign_id, EventLog.contact_id == contact_id)
            .order_by(EventLog.rotation, EventLog.reached_at, EventLog.event_id)
            # Steps are changed with set-based updates: a row already in the session (read
            # before a reschedule, cancel or retry) must show what the update wrote.
            .execution_options(populate_existing=True)
        )
        return list(rows.all())

    async def step(self, event_id: int, contact_id: int, rotation: int) -> EventLog | None:
        # The identity follows the primary key's column order: contact, event, rotation.
        return await self.session.get(EventLog, (contact_id, event_id, rotation))

    # -- segment sources ----------------------------------------------------------------------

    async def segment_members(
        self,
        segment_id: int,
        *,
        after_contact: int,
        limit: int,
        added_before: datetime | None,
        upto_contact: int | None = None,
    ) -> list[int]:
        # Core columns, not the mapped class: a batch is tens of thousands of ids, and the
        # ORM's row loading would cost more than the query.
        member = table_of(SegmentMember).c
        stmt = (
            select(member.contact_id)
            .where(
                member.segment_id == segment_id,
                member.manually_removed.is_(False),
                member.contact_id > after_contact,
            )
            .order_by(member.contact_id)
            .limit(limit)
        )
        if added_before is not None:
            stmt = stmt.where(member.added_at <= added_before)
        if upto_contact is not None:
            stmt = stmt.where(member.contact_id <= upto_contact)
        return list((await self.session.execute(stmt)).scalars().all())

    async def last_membership_change(self, segment_id: int) -> int:
        return int(
            await self.session.scalar(
                select(func.coalesce(func.max(SegmentMembershipChange.id), 0)).where(
                    SegmentMembershipChange.segment_id == segment_id
                )
            )
            or 0
        )

    async def membership_changes(
        self, segment_id: int, *, after: int, limit: int
    ) -> list[tuple[int, int, str, datetime]]:
        rows = await self.session.execute(
            select(
                SegmentMembershipChange.id,
                SegmentMembershipChange.contact_id,
                SegmentMembershipChange.change,
                SegmentMembershipChange.occurred_at,
            )
            .where(
                SegmentMembershipChange.segment_id == segment_id, SegmentMembershipChange.id > after
            )
            .order_by(SegmentMembershipChange.id)
            .limit(limit)
        )
        return [(i, c, change, at) for i, c, change, at in rows.all()]

    async def existing_contacts(
        self, ids: Sequence[int], *, where: ColumnElement[bool] | None = None
    ) -> set[int]:
        found: set[int] = set()
        for part in _chunks(list(ids)):
            stmt = select(Contact.id).where(ids_in(Contact.id, part))
            if where is not None:
                stmt = stmt.where(where)
            found.update((await self.session.scalars(stmt)).all())
        return found

    async def in_any_segment(
        self, segment_ids: Sequence[int], contact_ids: Sequence[int]
    ) -> set[int]:
        if not segment_ids or not contact_ids:
            return set()
        found: set[int] = set()
        for part in _chunks(list(contact_ids)):
            rows = await self.session.scalars(
                select(SegmentMember.contact_id).where(
                    SegmentMember.segment_id.in_(segment_ids),
                    ids_in(SegmentMember.contact_id, part),
                    SegmentMember.manually_removed.is_(False),
                )
            )
            found.update(rows.all())
        return found

    # -- publish periods ----------------------------------------------------------------------

    async def open_period(self, campaign_id: int) -> CampaignPublishPeriod | None:
        return await self.session.scalar(
            select(CampaignPublishPeriod).where(
                CampaignPublishPeriod.campaign_id == campaign_id,
                CampaignPublishPeriod.ended_at.is_(None),
            )
        )

    async def periods(self, campaign_id: int) -> list[tuple[datetime, datetime | None]]:
        rows = await self.session.execute(
            select(CampaignPublishPeriod.started_at, CampaignPublishPeriod.ended_at)
            .where(CampaignPublishPeriod.campaign_id == campaign_id)
            .order_by(CampaignPublishPeriod.started_at)
        )
        return [(s, e) for s, e in rows.all()]

    # -- conditions and behaviour -------------------------------------------------------------

    async def matching(
        self, condition: ColumnElement[bool], contact_ids: Sequence[int]
    ) -> set[int]:
        found: set[int] = set()
        for part in _chunks(list(contact_ids), 5000):
            rows = await self.session.scalars(
                select(Contact.id).where(ids_in(Contact.id, part), condition)
            )
            found.update(rows.all())
        return found

    async def waiting_decisions(
        self, contact_ids: Sequence[int], behaviour_types: Sequence[str]
    ) -> list[tuple[int, int, int, int, datetime]]:
        """(contact, campaign, event, rotation, reached) of the contacts' waiting decisions of
        these types."""
        rows = await self.session.execute(
            select(
                EventLog.contact_id,
                EventLog.campaign_id,
                EventLog.event_id,
                EventLog.rotation,
                EventLog.reached_at,
            )
            .join(CampaignEvent, CampaignEvent.id == EventLog.event_id)
            .where(
                ids_in(EventLog.contact_id, contact_ids),
                EventLog.status == 2,
                CampaignEvent.type.in_(behaviour_types),
            )
            .order_by(EventLog.campaign_id, EventLog.event_id)
        )
        return [(c, cp, e, r, at) for c, cp, e, r, at in rows.all()]

    async def add_contact_events(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(table_of(ContactEvent)), list(rows))

    async def contacts_by_email(self, emails: Sequence[str]) -> dict[str, int]:
        if not emails:
            return {}
        rows = await self.session.execute(
            select(Contact.email, Contact.id).where(Contact.email.in_(sorted(set(emails))))
        )
        return {email: contact_id for email, contact_id in rows.all() if email}

    async def update_step(
        self, event_id: int, contact_id: int, rotation: int, values: Mapping[str, Any]
    ) -> None:
        await self.session.execute(
            update(table_of(EventLog))
            .where(
                EventLog.event_id == event_id,
                EventLog.contact_id == contact_id,
                EventLog.rotation == rotation,
            )
            .values(dict(values))
        )

    async def recent_outcomes(self, campaign_id: int) -> tuple[int, int]:
        """(dead, finished) step counts of a campaign, for the failure-rate guard."""
        row = (
            await self.session.execute(
                select(
                    func.coalesce(func.sum(EventStats.dead), 0),
                    func.coalesce(
                        func.sum(EventStats.done + EventStats.warned + EventStats.dead), 0
                    ),
                ).where(EventStats.campaign_id == campaign_id)
            )
        ).one()
        return int(row[0]), int(row[1])

    # -- the campaign pages -------------------------------------------------------------------

    async def open_steps_detail(
        self, campaign_id: int, contact_ids: Sequence[int]
    ) -> dict[int, list[tuple[int, int, datetime | None]]]:
        """(event, status, due) of the open steps of these contacts, in one statement per
        chunk (a members page is one).

        Read by the primary key, which leads with the contact, and filtered on status here:
        a status condition in SQL lets SQLite prefer the partial index of open steps, which
        holds every waiting contact of a large campaign."""
        found: dict[int, list[tuple[int, int, datetime | None]]] = {}
        for part in _chunks(list(contact_ids)):
            rows = await self.session.execute(
                select(EventLog.contact_id, EventLog.event_id, EventLog.status, EventLog.due_at)
                .where(ids_in(EventLog.contact_id, part), EventLog.campaign_id == campaign_id)
                .order_by(EventLog.contact_id, EventLog.due_at, EventLog.event_id)
            )
            for cid, event_id, status, due in rows.all():
                if status in (1, 2, 3):
                    found.setdefault(cid, []).append((event_id, status, due))
        return found

    def _audience(
        self,
        segment_id: int,
        locked_at: datetime | None,
        contacts: ColumnElement[bool] | None = None,
    ) -> ColumnElement[bool]:
        """The segment members a source admits: present (not removed by hand), for a locked
        audience there by its lock time, and among ``contacts`` when given."""
        condition = (SegmentMember.segment_id == segment_id) & SegmentMember.manually_removed.is_(
            False
        )
        if locked_at is not None:
            condition = condition & (SegmentMember.added_at <= locked_at)
        if contacts is not None:
            condition = condition & SegmentMember.contact_id.in_(select(Contact.id).where(contacts))
        return condition

    async def audience_count(
        self,
        segment_id: int,
        locked_at: datetime | None,
        *,
        contacts: ColumnElement[bool] | None = None,
    ) -> int:
        return int(
            await self.session.scalar(
                select(func.count())
                .select_from(SegmentMember)
                .where(self._audience(segment_id, locked_at, contacts))
            )
            or 0
        )

    async def entering_count(
        self,
        campaign_id: int,
        audiences: Sequence[tuple[int, datetime | None]],
        *,
        allow_restart: bool,
        contacts: ColumnElement[bool] | None = None,
    ) -> int:
        """Distinct contacts of these audiences an automatic entry would admit: not active in
        the campaign, never removed by a person, and exited only where restarts are allowed
        (the membership rules of ``CampaignService.add_members``)."""
        if not audiences:
            return 0
        blocked_statuses = (
            ["active", "removed"] if allow_restart else ["active", "removed", "exited"]
        )
        blocked = (
            select(CampaignMember.contact_id)
            .where(
                CampaignMember.campaign_id == campaign_id,
                CampaignMember.contact_id == SegmentMember.contact_id,
                CampaignMember.status.in_(blocked_statuses),
            )
            .exists()
        )
        return int(
            await self.session.scalar(
                select(func.count(func.distinct(SegmentMember.contact_id))).where(
                    or_(*(self._audience(sid, locked, contacts) for sid, locked in audiences)),
                    ~blocked,
                )
            )
            or 0
        )

    async def failures_page(
        self, campaign_id: int, *, page: PageRequest, status: str | None
    ) -> Page[Any]:
        """Dead steps, and steps waiting for another attempt after a failure, with their
        contact and step; one statement for the page and one for its total."""
        event_ids = select(CampaignEvent.id).where(CampaignEvent.campaign_id == campaign_id)
        dead = EventLog.status == 6
        failed = EventLog.status.in_([1, 3]) & (EventLog.attempts > 0)
        which = dead if status == "dead" else failed if status == "failed" else or_(dead, failed)
        stmt = (
            select(
                EventLog,
                CampaignEvent.uuid,
                CampaignEvent.name,
                CampaignEvent.type,
                Contact.email,
                Contact.first_name,
                Contact.last_name,
            )
            .join(CampaignEvent, CampaignEvent.id == EventLog.event_id)
            .join(Contact, Contact.id == EventLog.contact_id)
            .where(EventLog.event_id.in_(event_ids), which)
        )
        order = order_by_sort(
            page.sort,
            allowed={
                "reached_at": EventLog.reached_at,
                "attempts": EventLog.attempts,
                "contact_id": EventLog.contact_id,
            },
            default="-reached_at",
            tiebreaker=EventLog.contact_id,
        )
        return await paginate(
            self.session, stmt, page=page, order_by=[*order, EventLog.event_id], scalars=False
        )
