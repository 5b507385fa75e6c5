"""Queries of the privacy domain: retention overrides, the clean-up runs and their batches,
the suppression list and consent records.

Clean-up batches walk a table by its primary key: a window of the next ``limit`` ids after the
cursor, then one set-based statement over that id range removes (or clears) the expired rows
in it. Each batch is one short transaction whatever the size of the table, the walk passes
over each row once, and the window comes from the key alone: with a time condition in the
same query, SQLite would walk the time index instead and sort, re-reading every expired row
at every batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from trellis.db.cleanup import delete_contact_rows
from trellis.db.dialect import ids_in, in_values, insert_ignoring_conflicts
from trellis.db.models import (
    AppSetting,
    AssetDownload,
    AuditEntry,
    CleanupRun,
    Consent,
    Contact,
    ContactEvent,
    ContactImport,
    EventLog,
    FormSubmission,
    OutboxMessage,
    PageHit,
    RetentionPolicySetting,
    Suppression,
    TrackingHit,
    WebVisitor,
)
from trellis.db.pagination import Page, PageRequest, paginate

# Journal statuses of a step still under way (scheduled, waiting, running).
_OPEN_STEPS = (1, 2, 3)
_SYNC = {"synchronize_session": False}
SALT_KEY = "privacy.suppression_salt"


@dataclass(frozen=True)
class Batch:
    """What one batch did: rows changed, and where the walk goes on (None: it is over)."""

    rows: int
    cursor: Any


class RetentionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def overrides(self) -> dict[str, RetentionPolicySetting]:
        rows = await self.session.scalars(select(RetentionPolicySetting))
        return {row.name: row for row in rows}

    async def put(
        self, name: str, *, enabled: bool, period: int, mode: str | None, now: datetime
    ) -> None:
        row = await self.session.get(RetentionPolicySetting, name)
        if row is None:
            row = RetentionPolicySetting(name=name)
            self.session.add(row)
        row.enabled, row.period, row.mode, row.updated_at = enabled, period, mode, now
        await self.session.flush()

    async def start_run(self, run: CleanupRun) -> int:
        self.session.add(run)
        await self.session.flush()
        return run.id

    async def finish_run(self, run_id: int, values: dict[str, Any]) -> None:
        await self.session.execute(
            update(CleanupRun).where(CleanupRun.id == run_id).values(**values),
            execution_options=_SYNC,
        )

    async def run(self, run_id: int) -> CleanupRun | None:
        return await self.session.get(CleanupRun, run_id)

    async def runs(self, *, policy: str | None, page: PageRequest) -> Page[CleanupRun]:
        stmt = select(CleanupRun)
        if policy is not None:
            stmt = stmt.where(CleanupRun.policy == policy)
        return await paginate(self.session, stmt, page=page, order_by=[CleanupRun.id.desc()])

    async def last_scheduled_runs(self) -> dict[str, datetime]:
        rows = await self.session.execute(
            select(CleanupRun.policy, func.max(CleanupRun.started_at))
            .where(CleanupRun.trigger == "schedule")
            .group_by(CleanupRun.policy)
        )
        return {policy: started for policy, started in rows.all()}

    async def last_runs(self) -> dict[str, CleanupRun]:
        """The latest run of each policy (dry runs included)."""
        latest = select(func.max(CleanupRun.id)).group_by(CleanupRun.policy)
        rows = await self.session.scalars(select(CleanupRun).where(CleanupRun.id.in_(latest)))
        return {row.policy: row for row in rows}


async def _window(session: AsyncSession, model: Any, after: int, limit: int) -> int | None:
    """The last id of the next ``limit`` rows after ``after``, by the primary key alone: the
    walk never depends on how the planner rates the other condition's index."""
    upto = select(model.id).where(model.id > after).order_by(model.id).limit(limit).subquery()
    last = await session.scalar(select(func.max(upto.c.id)))
    return int(last) if last is not None else None


async def _delete_by_id(
    session: AsyncSession, model: Any, expired: ColumnElement[bool], after: int, limit: int
) -> Batch:
    last = await _window(session, model, after, limit)
    if last is None:
        return Batch(0, None)
    result = await session.execute(
        delete(model).where(model.id > after, model.id <= last, expired), execution_options=_SYNC
    )
    return Batch(int(getattr(result, "rowcount", 0) or 0), last)


async def _count(session: AsyncSession, model: Any, expired: ColumnElement[bool]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model).where(expired)) or 0)


class CleanupRepository:
    """One batch of each policy's work, and the counts a dry run reports."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- anonymous visitors -------------------------------------------------------------------

    @staticmethod
    def _idle_anonymous(cutoff: datetime) -> ColumnElement[bool]:
        return and_(
            Contact.is_anonymous.is_(True),
            Contact.anonymised_at.is_(None),
            func.coalesce(Contact.last_active_at, Contact.created_at) < cutoff,
        )

    @staticmethod
    def _unknown_visitor(cutoff: datetime) -> ColumnElement[bool]:
        return and_(WebVisitor.contact_id.is_(None), WebVisitor.last_seen_at < cutoff)

    async def count_anonymous_contacts(self, cutoff: datetime) -> int:
        return await _count(self.session, Contact, self._idle_anonymous(cutoff))

    async def delete_anonymous_contacts(self, cutoff: datetime, after: int, limit: int) -> Batch:
        ids = await self._contact_ids(self._idle_anonymous(cutoff), after, limit)
        await self.delete_contacts(ids)
        return Batch(len(ids), ids[-1] if ids else None)

    async def count_unknown_visitors(self, cutoff: datetime) -> int:
        return await _count(self.session, WebVisitor, self._unknown_visitor(cutoff))

    async def delete_unknown_visitors(self, cutoff: datetime, after: str, limit: int) -> Batch:
        """Visitors never tied to a contact, with their hits."""
        ids = list(
            await self.session.scalars(
                select(WebVisitor.id)
                .where(WebVisitor.id > after, self._unknown_visitor(cutoff))
                .order_by(WebVisitor.id)
                .limit(limit)
            )
        )
        if not ids:
            return Batch(0, None)
        hits = await self.session.execute(
            delete(PageHit).where(in_values(PageHit.visitor_id, ids), PageHit.contact_id.is_(None)),
            execution_options=_SYNC,
        )
        await self.session.execute(
            delete(WebVisitor).where(in_values(WebVisitor.id, ids)), execution_options=_SYNC
        )
        return Batch(len(ids) + int(getattr(hits, "rowcount", 0) or 0), ids[-1])

    # -- tracking events ----------------------------------------------------------------------

    async def count_older(self, model: Any, column: Any, cutoff: datetime) -> int:
        return await _count(self.session, model, column < cutoff)

    async def delete_older(
        self, model: Any, column: Any, cutoff: datetime, after: int, limit: int
    ) -> Batch:
        return await _delete_by_id(self.session, model, column < cutoff, after, limit)

    TRACKING_TABLES: tuple[tuple[str, Any, Any], ...] = (
        ("page_hits", PageHit, PageHit.created_at),
        ("tracking_hits", TrackingHit, TrackingHit.occurred_at),
        ("contact_events", ContactEvent, ContactEvent.occurred_at),
    )
    OUTBOX_TABLE = ("email_outbox", OutboxMessage, OutboxMessage.created_at)
    AUDIT_TABLE = ("audit_log", AuditEntry, AuditEntry.occurred_at)

    # -- finished journeys --------------------------------------------------------------------

    @staticmethod
    def _finished_journeys(low: int, high: int, cutoff: datetime) -> Select[int, int, int]:
        """(contact, campaign, rotation) of the journeys among these contacts that have no
        step under way and whose last step ended before ``cutoff``."""
        ended = func.coalesce(EventLog.done_at, EventLog.reached_at)
        still_open = case((EventLog.status.in_(_OPEN_STEPS), 1), else_=0)
        return (
            select(EventLog.contact_id, EventLog.campaign_id, EventLog.rotation)
            .where(EventLog.contact_id >= low, EventLog.contact_id <= high)
            .group_by(EventLog.contact_id, EventLog.campaign_id, EventLog.rotation)
            .having(and_(func.max(still_open) == 0, func.max(ended) < cutoff))
        )

    async def count_finished_journal(self, cutoff: datetime) -> int:
        journeys = self._finished_journeys(0, 2**62, cutoff).subquery()
        key = tuple_(EventLog.contact_id, EventLog.campaign_id, EventLog.rotation)
        stmt = select(func.count()).where(
            key.in_(select(journeys.c.contact_id, journeys.c.campaign_id, journeys.c.rotation))
        )
        return int(await self.session.scalar(stmt) or 0)

    async def delete_finished_journal(self, cutoff: datetime, after: int, limit: int) -> Batch:
        """The journal rows of finished journeys of the next ``limit`` contacts (by id)."""
        contacts = list(
            await self.session.scalars(
                select(EventLog.contact_id)
                .where(EventLog.contact_id > after)
                .group_by(EventLog.contact_id)
                .order_by(EventLog.contact_id)
                .limit(limit)
            )
        )
        if not contacts:
            return Batch(0, None)
        low, high = contacts[0], contacts[-1]
        key = tuple_(EventLog.contact_id, EventLog.campaign_id, EventLog.rotation)
        result = await self.session.execute(
            delete(EventLog).where(
                EventLog.contact_id >= low,
                EventLog.contact_id <= high,
                key.in_(self._finished_journeys(low, high, cutoff)),
            ),
            execution_options=_SYNC,
        )
        return Batch(int(getattr(result, "rowcount", 0) or 0), high)

    # -- network addresses --------------------------------------------------------------------

    IP_TABLES: tuple[tuple[str, Any, Any], ...] = (
        ("form_submissions", FormSubmission, FormSubmission.created_at),
        ("asset_downloads", AssetDownload, AssetDownload.created_at),
        ("consents", Consent, Consent.occurred_at),
    )

    async def count_ips(self, model: Any, column: Any, cutoff: datetime) -> int:
        return await _count(self.session, model, and_(column < cutoff, model.ip.is_not(None)))

    async def clear_ips(
        self, model: Any, column: Any, cutoff: datetime, after: int, limit: int
    ) -> Batch:
        last = await _window(self.session, model, after, limit)
        if last is None:
            return Batch(0, None)
        result = await self.session.execute(
            update(model)
            .where(model.id > after, model.id <= last, column < cutoff, model.ip.is_not(None))
            .values(ip=None),
            execution_options=_SYNC,
        )
        return Batch(int(getattr(result, "rowcount", 0) or 0), last)

    # -- import files -------------------------------------------------------------------------

    @staticmethod
    def _old_import(cutoff: datetime) -> ColumnElement[bool]:
        return and_(
            ContactImport.finished_at.is_not(None),
            ContactImport.finished_at < cutoff,
            ContactImport.path != "",
        )

    async def count_import_files(self, cutoff: datetime) -> int:
        return await _count(self.session, ContactImport, self._old_import(cutoff))

    async def old_imports(
        self, cutoff: datetime, after: int, limit: int
    ) -> list[tuple[int, str, dict[str, Any]]]:
        rows = await self.session.execute(
            select(ContactImport.id, ContactImport.path, ContactImport.options)
            .where(ContactImport.id > after, self._old_import(cutoff))
            .order_by(ContactImport.id)
            .limit(limit)
        )
        return [(row.id, row.path, dict(row.options or {})) for row in rows]

    async def forget_import_files(self, import_ids: Sequence[int]) -> None:
        await self.session.execute(
            update(ContactImport).where(ids_in(ContactImport.id, import_ids)).values(path=""),
            execution_options=_SYNC,
        )

    # -- inactive contacts --------------------------------------------------------------------

    @staticmethod
    def _inactive(cutoff: datetime) -> ColumnElement[bool]:
        return and_(
            Contact.is_anonymous.is_(False),
            Contact.anonymised_at.is_(None),
            func.coalesce(Contact.last_active_at, Contact.created_at) < cutoff,
        )

    async def count_inactive_contacts(self, cutoff: datetime) -> int:
        return await _count(self.session, Contact, self._inactive(cutoff))

    async def inactive_contact_ids(self, cutoff: datetime, after: int, limit: int) -> list[int]:
        return await self._contact_ids(self._inactive(cutoff), after, limit)

    # -- shared -------------------------------------------------------------------------------

    async def _contact_ids(self, where: ColumnElement[bool], after: int, limit: int) -> list[int]:
        return list(
            await self.session.scalars(
                select(Contact.id)
                .where(Contact.id > after, where)
                .order_by(Contact.id)
                .limit(limit)
            )
        )

    async def delete_contacts(self, ids: Sequence[int]) -> None:
        """Contacts with every row that refers to them (bulk tables included, ADR 0009)."""
        if not ids:
            return
        await self.session.execute(
            delete(TrackingHit).where(ids_in(TrackingHit.contact_id, ids)), execution_options=_SYNC
        )
        await delete_contact_rows(self.session, ids)
        await self.session.execute(
            delete(WebVisitor).where(ids_in(WebVisitor.contact_id, ids)), execution_options=_SYNC
        )
        await self.session.execute(
            delete(Contact).where(ids_in(Contact.id, ids)), execution_options=_SYNC
        )


class SuppressionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def salt(self) -> str | None:
        row = await self.session.get(AppSetting, SALT_KEY)
        return str(row.value) if row is not None else None

    async def keep_salt(self, salt: str, *, now: datetime) -> str:
        """Store ``salt`` unless another process stored one first; the one kept."""
        await self.session.execute(
            insert_ignoring_conflicts(self.session, AppSetting).values(
                key=SALT_KEY, value=salt, updated_at=now
            )
        )
        kept = await self.salt()
        assert kept is not None
        return kept

    async def add(self, hashes: Sequence[str], *, now: datetime) -> None:
        if hashes:
            await self.session.execute(
                insert_ignoring_conflicts(self.session, Suppression),
                [{"email_hash": h, "created_at": now} for h in hashes],
            )

    async def present(self, hashes: Sequence[str]) -> set[str]:
        if not hashes:
            return set()
        rows = await self.session.scalars(
            select(Suppression.email_hash).where(in_values(Suppression.email_hash, list(hashes)))
        )
        return set(rows)

    async def remove(self, hashes: Sequence[str]) -> int:
        if not hashes:
            return 0
        result = await self.session.execute(
            delete(Suppression).where(in_values(Suppression.email_hash, list(hashes))),
            execution_options=_SYNC,
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def count(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(Suppression)) or 0)


class ConsentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_many(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(Consent), list(rows))

    async def history(self, contact_id: int, *, page: PageRequest) -> Page[Consent]:
        stmt = select(Consent).where(Consent.contact_id == contact_id)
        return await paginate(
            self.session, stmt, page=page, order_by=[Consent.occurred_at.desc(), Consent.id.desc()]
        )

    async def current(self, contact_id: int) -> list[Consent]:
        """The latest record per purpose."""
        latest = (
            select(func.max(Consent.id))
            .where(Consent.contact_id == contact_id)
            .group_by(Consent.purpose)
        )
        rows = await self.session.scalars(
            select(Consent).where(Consent.id.in_(latest)).order_by(Consent.purpose)
        )
        return list(rows)


def has_consent(purpose: str, contact_id: Any) -> ColumnElement[bool]:
    """True where the contact's latest record for ``purpose`` grants it (segment filters and
    the campaign condition compile to this)."""
    newer = Consent.__table__.alias("newer")
    latest = (
        select(literal(1))
        .select_from(Consent)
        .where(
            Consent.contact_id == contact_id,
            Consent.purpose == purpose,
            Consent.granted.is_(True),
            ~exists().where(
                newer.c.contact_id == Consent.contact_id,
                newer.c.purpose == Consent.purpose,
                newer.c.id > Consent.id,
            ),
        )
    )
    return exists(latest)
