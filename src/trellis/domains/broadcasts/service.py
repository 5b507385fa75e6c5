"""Segment broadcasts: one broadcast-kind email to the members of segments.

Life of a broadcast: ``draft`` (edited freely) -> ``scheduled`` (a start time is set; still
editable) -> ``sending`` -> ``sent``, or ``cancelled`` from any state before ``sent``.

The audience lives in ``broadcast_recipients``, one row per contact (its primary key is the
rule that a contact gets a broadcast at most once). A *locked* broadcast takes its audience
once, when sending starts: the members of the included segments who had joined by the start
time, less the members of the excluded ones. A *live* broadcast adds the contacts who join
later, at every pass, until its stop time. Recipients are queued in batches through
:meth:`EmailService.queue` (Do Not Contact, category opt-outs, "already received", the
frequency cap, which counts broadcasts like any marketing email); refused ones get a skipped
send with the reason, like a campaign's.

:meth:`BroadcastService.run_due` is the pass the background service and the CLI run. Each
broadcast is advanced in its own transaction holding its row (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, the single writer on SQLite), so two processes never queue the same recipients,
and a pass that finds nothing to do changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor, Perm
from trellis.db.models import Broadcast
from trellis.db.pagination import Page, PageRequest
from trellis.domains.audit.service import AuditAction, audit, diff
from trellis.domains.broadcasts.repository import (
    CANCELLED_REASON,
    BroadcastRepository,
    Counts,
)
from trellis.domains.broadcasts.schemas import (
    BroadcastCounts,
    BroadcastCreate,
    BroadcastRead,
    BroadcastRunRead,
    BroadcastUpdate,
    RecipientRead,
)
from trellis.domains.contacts.service import editable_contacts
from trellis.domains.emails.service import email_service
from trellis.domains.segments.service import segment_service
from trellis.domains.users.service import user_service
from trellis.errors import Conflict, FieldError, NotFound, ValidationFailed
from trellis.events.base import EmailRequest
from trellis.kit.versions import check_version
from trellis.kit.visibility import may_see, owned_rows

log = logging.getLogger(__name__)

RUN_JOB = "broadcasts.run"
BATCH_SIZE = 5000
# A start time this far in the past is still accepted (the form took a while to submit).
START_GRACE = timedelta(minutes=1)
EDITABLE = ("draft", "scheduled")
RECEIVED = "Already received this email."


def _snapshot(
    broadcast: Broadcast, include: Sequence[int], exclude: Sequence[int]
) -> dict[str, Any]:
    return {
        "name": broadcast.name,
        "email_id": broadcast.email_id,
        "segment_ids": sorted(include),
        "excluded_segment_ids": sorted(exclude),
        "audience_mode": broadcast.audience_mode,
        "over_cap": broadcast.over_cap,
        "status": broadcast.status,
        "start_at": broadcast.start_at.isoformat() if broadcast.start_at else None,
        "stop_at": broadcast.stop_at.isoformat() if broadcast.stop_at else None,
    }


def _visible(actor: Actor, broadcast: Broadcast | None, broadcast_id: int) -> Broadcast:
    """Broadcasts are emails' business: who may not see the broadcast gets a 404."""
    actor.require_view_any("emails")
    if broadcast is None or not may_see(actor, "emails", broadcast.created_by_id):
        raise NotFound(f"No broadcast with id {broadcast_id}.")
    return broadcast


class BroadcastService:
    def __init__(self) -> None:
        self.batch_size = BATCH_SIZE

    # -- reading ------------------------------------------------------------------------------

    async def get(self, session: AsyncSession, broadcast_id: int, *, actor: Actor) -> Broadcast:
        broadcast = await BroadcastRepository(session).get(broadcast_id)
        return _visible(actor, broadcast, broadcast_id)

    async def read(self, session: AsyncSession, broadcast: Broadcast) -> BroadcastRead:
        return (await self.read_many(session, [broadcast]))[0]

    async def read_many(
        self, session: AsyncSession, broadcasts: Sequence[Broadcast]
    ) -> list[BroadcastRead]:
        repo = BroadcastRepository(session)
        ids = [b.id for b in broadcasts]
        segments = await repo.segments_of(ids)
        counts = await repo.counts(ids)
        emails = await repo.email_names(sorted({b.email_id for b in broadcasts}))
        out = []
        for b in broadcasts:
            include, exclude = segments[b.id]
            name, published = emails.get(b.email_id, ("", False))
            estimate = None
            if b.status in EDITABLE:
                estimate = await repo.estimate(include, exclude)
            problem = None
            if b.status in ("scheduled", "sending") and not published:
                problem = "The email is not published: nothing is queued until it is again."
            out.append(
                BroadcastRead(
                    id=b.id,
                    name=b.name,
                    email_id=b.email_id,
                    email_name=name,
                    segment_ids=include,
                    excluded_segment_ids=exclude,
                    audience_mode=b.audience_mode,
                    over_cap=b.over_cap,
                    status=b.status,
                    start_at=b.start_at,
                    stop_at=b.stop_at,
                    started_at=b.started_at,
                    finished_at=b.finished_at,
                    cancelled_at=b.cancelled_at,
                    counts=self._counts(b, counts[b.id]),
                    estimated_audience=estimate,
                    problem=problem,
                    created_by_id=b.created_by_id,
                    created_at=b.created_at,
                    updated_at=b.updated_at,
                    version=b.version,
                )
            )
        return out

    @staticmethod
    def _counts(broadcast: Broadcast, counts: Counts) -> BroadcastCounts:
        cancelled = broadcast.status == "cancelled"
        return BroadcastCounts(
            audience=counts.audience,
            pending=counts.in_flight + (0 if cancelled else counts.unqueued),
            sent=counts.sent,
            failed=counts.failed,
            skipped=counts.skipped,
            cancelled=counts.cancelled + (counts.unqueued if cancelled else 0),
        )

    async def list_page(
        self,
        session: AsyncSession,
        *,
        actor: Actor,
        page: PageRequest,
        q: str | None = None,
        status: str | None = None,
        email_id: int | None = None,
    ) -> Page[Broadcast]:
        actor.require_view_any("emails")
        return await BroadcastRepository(session).list_page(
            page=page,
            q=q,
            status=status,
            email_id=email_id,
            visible=owned_rows(actor, "emails", Broadcast.created_by_id),
        )

    async def recipients_page(
        self,
        session: AsyncSession,
        broadcast_id: int,
        *,
        actor: Actor,
        page: PageRequest,
        status: str | None = None,
    ) -> Page[RecipientRead]:
        broadcast = await self.get(session, broadcast_id, actor=actor)
        cancelled = broadcast.status == "cancelled"
        result = await BroadcastRepository(session).recipients_page(
            broadcast_id, page=page, status=status, cancelled=cancelled
        )
        items = []
        for contact_id, address, send_status, reason, added_at, sent_at, skipped in result.items:
            if skipped is not None:
                shown = "skipped"
            elif send_status is None:
                shown = "cancelled" if cancelled else "pending"
            elif send_status == "skipped" and reason == CANCELLED_REASON:
                shown = "cancelled"
            else:
                shown = send_status
            items.append(
                RecipientRead(
                    contact_id=contact_id,
                    email=address,
                    status=shown,
                    reason=reason,
                    added_at=added_at,
                    sent_at=sent_at,
                )
            )
        return Page(items=items, total=result.total, number=result.number, size=result.size)

    # -- validation ---------------------------------------------------------------------------

    async def _check(
        self,
        session: AsyncSession,
        *,
        actor: Actor,
        email_id: int,
        include: Sequence[int],
        exclude: Sequence[int],
        mode: str,
        start_at: datetime | None,
        stop_at: datetime | None,
        now: datetime,
        scheduling: bool,
        check_start: bool,
    ) -> None:
        """Every problem at once, each with the pointer of its field."""
        errors: list[FieldError] = []
        try:
            email = await email_service.get(session, email_id, actor=actor)
        except NotFound:
            errors.append(FieldError("/email_id", f"No email with id {email_id}.", "not_found"))
        else:
            if email.kind != "broadcast":
                errors.append(
                    FieldError(
                        "/email_id",
                        f"The email '{email.name}' is a {email.kind} email; a broadcast sends "
                        "an email of kind 'broadcast'.",
                        "wrong_kind",
                    )
                )
            elif scheduling and not email.is_published:
                errors.append(
                    FieldError(
                        "/email_id",
                        f"The email '{email.name}' is not published; publish it first.",
                        "not_published",
                    )
                )
        existing = await segment_service.existing_ids(session, [*include, *exclude], actor=actor)
        if not include:
            errors.append(FieldError("/segment_ids", "Choose at least one segment.", "required"))
        seen: set[int] = set()
        for pointer, ids in (("segment_ids", include), ("excluded_segment_ids", exclude)):
            for index, segment_id in enumerate(ids):
                if segment_id not in existing:
                    errors.append(
                        FieldError(
                            f"/{pointer}/{index}", f"No segment with id {segment_id}.", "not_found"
                        )
                    )
                elif segment_id in seen:
                    errors.append(
                        FieldError(
                            f"/{pointer}/{index}",
                            f"The segment {segment_id} is listed twice (or both included and "
                            "excluded).",
                            "duplicate",
                        )
                    )
                seen.add(segment_id)
        if check_start and start_at is not None and start_at < now - START_GRACE:
            errors.append(FieldError("/start_at", "The start time is in the past.", "in_the_past"))
        if mode == "live":
            if stop_at is None:
                errors.append(
                    FieldError(
                        "/stop_at",
                        "A live audience needs a stop time: until when should contacts who "
                        "join the segments still get the email?",
                        "required",
                    )
                )
            elif stop_at <= (start_at or now):
                errors.append(
                    FieldError(
                        "/stop_at", "The stop time must be after the start time.", "too_early"
                    )
                )
        elif stop_at is not None:
            errors.append(
                FieldError(
                    "/stop_at",
                    "A stop time applies to live audiences only; a locked audience is sent "
                    "in full.",
                    "not_allowed",
                )
            )
        if errors:
            raise ValidationFailed("The broadcast cannot be saved as it is.", errors)

    # -- writing ------------------------------------------------------------------------------

    async def create(
        self, session: AsyncSession, *, data: BroadcastCreate, actor: Actor, now: datetime
    ) -> Broadcast:
        actor.require("emails", Perm.CREATE)
        await self._check(
            session,
            actor=actor,
            email_id=data.email_id,
            include=data.segment_ids,
            exclude=data.excluded_segment_ids,
            mode=data.audience_mode,
            start_at=data.start_at,
            stop_at=data.stop_at,
            now=now,
            scheduling=False,
            check_start=True,
        )
        repo = BroadcastRepository(session)
        broadcast = Broadcast(
            name=data.name,
            email_id=data.email_id,
            audience_mode=data.audience_mode,
            over_cap=data.over_cap,
            status="draft",
            start_at=data.start_at,
            stop_at=data.stop_at,
            created_by_id=actor.user_id,
            created_at=now,
            updated_at=now,
            version=1,
        )
        repo.add(broadcast)
        await session.flush()
        await repo.set_segments(broadcast.id, data.segment_ids, data.excluded_segment_ids)
        await audit.record(
            session,
            actor=actor,
            action=AuditAction.CREATE,
            entity_type="broadcast",
            entity_id=broadcast.id,
            entity_name=broadcast.name,
            changes=diff({}, _snapshot(broadcast, data.segment_ids, data.excluded_segment_ids)),
            now=now,
        )
        return broadcast

    async def _editable(
        self, session: AsyncSession, broadcast_id: int, *, actor: Actor, what: str
    ) -> tuple[Broadcast, list[int], list[int]]:
        repo = BroadcastRepository(session)
        broadcast = _visible(actor, await repo.lock(broadcast_id, wait=True), broadcast_id)
        actor.require_on("emails", Perm.EDIT_OWN, Perm.EDIT_OTHERS, broadcast.created_by_id)
        if broadcast.status not in EDITABLE:
            raise Conflict(
                f"The broadcast is {broadcast.status}; only a draft or scheduled broadcast "
                f"can be {what}.",
                extra={"status": broadcast.status},
            )
        include, exclude = (await repo.segments_of([broadcast.id]))[broadcast.id]
        return broadcast, include, exclude

    async def update(
        self,
        session: AsyncSession,
        broadcast_id: int,
        *,
        data: BroadcastUpdate,
        actor: Actor,
        now: datetime,
        expected_version: int | None,
    ) -> Broadcast:
        broadcast, include, exclude = await self._editable(
            session, broadcast_id, actor=actor, what="edited"
        )
        check_version(broadcast, expected_version)
        given = data.model_dump(exclude_unset=True)
        before = _snapshot(broadcast, include, exclude)
        for name in ("name", "email_id", "audience_mode", "over_cap"):
            if given.get(name) is not None:
                setattr(broadcast, name, given[name])
        for name in ("start_at", "stop_at"):
            if name in given:
                setattr(broadcast, name, given[name])
        new_include = list(given["segment_ids"]) if data.segment_ids is not None else include
        new_exclude = (
            list(given["excluded_segment_ids"])
            if data.excluded_segment_ids is not None
            else exclude
        )
        if broadcast.status == "scheduled" and broadcast.start_at is None:
            broadcast.start_at = now
        await self._check(
            session,
            actor=actor,
            email_id=broadcast.email_id,
            include=new_include,
            exclude=new_exclude,
            mode=broadcast.audience_mode,
            start_at=broadcast.start_at,
            stop_at=broadcast.stop_at,
            now=now,
            scheduling=broadcast.status == "scheduled",
            check_start="start_at" in given,
        )
        after = _snapshot(broadcast, new_include, new_exclude)
        changes = diff(before, after)
        if changes:
            if new_include != include or new_exclude != exclude:
                await BroadcastRepository(session).set_segments(
                    broadcast.id, new_include, new_exclude
                )
            broadcast.version += 1
            broadcast.updated_at = now
            await session.flush()
            await audit.record(
                session,
                actor=actor,
                action=AuditAction.UPDATE,
                entity_type="broadcast",
                entity_id=broadcast.id,
                entity_name=broadcast.name,
                changes=changes,
                now=now,
            )
        return broadcast

    async def schedule(
        self,
        session: AsyncSession,
        broadcast_id: int,
        *,
        actor: Actor,
        now: datetime,
        expected_version: int | None,
    ) -> Broadcast:
        """Draft -> scheduled: it starts at its start time (now, if it has none)."""
        broadcast, include, exclude = await self._editable(
            session, broadcast_id, actor=actor, what="scheduled"
        )
        actor.require("emails", Perm.PUBLISH)
        check_version(broadcast, expected_version)
        if broadcast.status == "scheduled":
            raise Conflict("The broadcast is already scheduled.", extra={"status": "scheduled"})
        before = _snapshot(broadcast, include, exclude)
        await self._check(
            session,
            actor=actor,
            email_id=broadcast.email_id,
            include=include,
            exclude=exclude,
            mode=broadcast.audience_mode,
            start_at=broadcast.start_at,
            stop_at=broadcast.stop_at,
            now=now,
            scheduling=True,
            check_start=True,
        )
        broadcast.status = "scheduled"
        if broadcast.start_at is None:
            broadcast.start_at = now
        broadcast.version += 1
        broadcast.updated_at = now
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action=AuditAction.PUBLISH,
            entity_type="broadcast",
            entity_id=broadcast.id,
            entity_name=broadcast.name,
            changes=diff(before, _snapshot(broadcast, include, exclude)),
            now=now,
        )
        return broadcast

    async def cancel(
        self,
        session: AsyncSession,
        broadcast_id: int,
        *,
        actor: Actor,
        now: datetime,
        expected_version: int | None,
    ) -> Broadcast:
        """Stop it: nothing more is queued, and queued sends that have not gone are cancelled."""
        repo = BroadcastRepository(session)
        broadcast = _visible(actor, await repo.lock(broadcast_id, wait=True), broadcast_id)
        actor.require_on("emails", Perm.EDIT_OWN, Perm.EDIT_OTHERS, broadcast.created_by_id)
        actor.require("emails", Perm.PUBLISH)
        check_version(broadcast, expected_version)
        if broadcast.status in ("sent", "cancelled"):
            raise Conflict(
                f"The broadcast is already {broadcast.status}.",
                extra={"status": broadcast.status},
            )
        previous = broadcast.status
        broadcast.status = "cancelled"
        broadcast.cancelled_at = now
        broadcast.finished_at = now
        broadcast.version += 1
        broadcast.updated_at = now
        cancelled = await repo.cancel_sends(broadcast.id)
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action=AuditAction.UNPUBLISH,
            entity_type="broadcast",
            entity_id=broadcast.id,
            entity_name=broadcast.name,
            changes={
                "status": {"old": previous, "new": "cancelled"},
                "sends_cancelled": {"old": None, "new": cancelled},
            },
            now=now,
        )
        return broadcast

    async def delete(
        self, session: AsyncSession, broadcast_id: int, *, actor: Actor, now: datetime
    ) -> None:
        repo = BroadcastRepository(session)
        broadcast = _visible(actor, await repo.lock(broadcast_id, wait=True), broadcast_id)
        actor.require_on("emails", Perm.DELETE_OWN, Perm.DELETE_OTHERS, broadcast.created_by_id)
        if broadcast.status == "sending":
            raise Conflict(
                "The broadcast is sending; cancel it before deleting it.",
                extra={"status": broadcast.status},
            )
        include, exclude = (await repo.segments_of([broadcast.id]))[broadcast.id]
        snapshot = _snapshot(broadcast, include, exclude)
        await repo.delete(broadcast)
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action=AuditAction.DELETE,
            entity_type="broadcast",
            entity_id=broadcast_id,
            entity_name=snapshot["name"],
            changes=diff(snapshot, {}),
            now=now,
        )

    # -- sending ------------------------------------------------------------------------------

    async def run_due(self, database: Any, *, now: datetime) -> BroadcastRunRead:
        """Advance every broadcast due at ``now``: start the scheduled ones whose time came,
        add live audiences' new members, queue recipients in batches, and finish those with
        nothing left to do. Idempotent; safe to run in several processes at once."""
        summary = BroadcastRunRead()
        async with database.unit_of_work(read_only=True) as session:
            ids = await BroadcastRepository(session).due_ids(now)
        for broadcast_id in ids:
            async with database.unit_of_work() as session:
                await self._advance(session, broadcast_id, now, summary)
        return summary

    async def _advance(
        self, session: AsyncSession, broadcast_id: int, now: datetime, summary: BroadcastRunRead
    ) -> None:
        repo = BroadcastRepository(session)
        broadcast = await repo.lock(broadcast_id, wait=False)
        if broadcast is None:
            return  # another process holds it, or it was deleted
        due = broadcast.status == "sending" or (
            broadcast.status == "scheduled"
            and broadcast.start_at is not None
            and broadcast.start_at <= now
        )
        if not due:
            return  # changed since the list was read (cancelled, edited)
        summary.broadcasts += 1
        include, exclude = (await repo.segments_of([broadcast.id]))[broadcast.id]
        # A broadcast mails only contacts its owner may change (ADR 0015).
        owner = await user_service.acting_as(session, broadcast.created_by_id)
        scope = editable_contacts(owner) if owner is not None else None
        start_at = broadcast.start_at or now
        starting = broadcast.status == "scheduled"
        if starting:
            broadcast.status = "sending"
            broadcast.started_at = now
            summary.started += 1
        live = broadcast.audience_mode == "live"
        if starting and not live:
            # The locked audience: the members as they were at the start time.
            summary.added += await repo.add_recipients(
                broadcast.id, include, exclude, cutoff=start_at, now=now, contacts=scope
            )
        elif live:
            # Everyone who joined by now, or by the stop time once it passed: a pass after
            # the stop time still picks up those who joined just before it.
            cutoff = min(now, broadcast.stop_at or now)
            summary.added += await repo.add_recipients(
                broadcast.id, include, exclude, cutoff=cutoff, now=now, contacts=scope
            )
        email = await email_service.get(session, broadcast.email_id, actor=Actor.system())
        if email.is_published:
            await self._queue_recipients(session, repo, broadcast, now, summary)
        counts = (await repo.counts([broadcast.id]))[broadcast.id]
        finished = counts.unqueued == 0 and counts.in_flight == 0
        if live:
            finished = finished and now >= (broadcast.stop_at or now)
        if finished:
            broadcast.status = "sent"
            broadcast.finished_at = now
            summary.finished += 1
        if starting or finished:
            broadcast.updated_at = now
            broadcast.version += 1
        await session.flush()

    async def _queue_recipients(
        self,
        session: AsyncSession,
        repo: BroadcastRepository,
        broadcast: Broadcast,
        now: datetime,
        summary: BroadcastRunRead,
    ) -> None:
        """Queue the recipients not queued yet, in batches."""
        # "Already received this email" is checked here, set-based, for the whole batch;
        # the email's queueing applies the other rules.
        request = EmailRequest(
            email_id=broadcast.email_id,
            kind="marketing",
            allow_repeat=True,
            over_cap=broadcast.over_cap,
        )
        # Only when the email went out by other means can a recipient have it already.
        elsewhere = await repo.sent_elsewhere(broadcast.email_id, broadcast.id)
        after = 0
        while True:
            batch = await repo.unqueued(broadcast.id, after=after, limit=self.batch_size)
            if not batch:
                break
            first, last = batch[0], batch[-1]
            received: set[int] = set()
            if elsewhere:
                received = await repo.skip_already_received(
                    broadcast.id, broadcast.email_id, first=first, last=last, reason=RECEIVED
                )
            rest = [c for c in batch if c not in received]
            results = await email_service.queue(
                session, request, rest, now=now, source="broadcast", broadcast_id=broadcast.id
            )
            await repo.link_sends(broadcast.id, broadcast.email_id, first=first, last=last)
            summary.queued += sum(1 for r in results.values() if r.status != "skipped")
            summary.skipped += len(received)
            summary.skipped += sum(1 for r in results.values() if r.status == "skipped")
            after = last


broadcast_service = BroadcastService()
