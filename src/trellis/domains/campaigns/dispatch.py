"""Campaign scheduling and dispatch: the loops that bring segment members in, run what is
due batch by batch, pause a failing campaign, and wake workers in the distributed mode.

Each pass opens its own units of work on the database it is given; membership rules and
execution stay with the campaign service (:mod:`trellis.domains.campaigns.service`) and the
runtime (:mod:`trellis.runtime.runner`).
"""

from __future__ import annotations

import asyncio
import logging
import time as clock_time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor
from trellis.db.leases import (
    add_intake_ranges,
    claim_intake_range,
    drop_intake_ranges,
    finish_intake_range,
    intake_ranges_left,
    release_campaign_leases,
    release_intake_range,
    renew_campaign_leases,
    take_campaign_leases,
)
from trellis.db.models import Campaign, CampaignSource
from trellis.db.session import Database
from trellis.domains.audit.service import AuditAction, audit
from trellis.domains.campaigns.repository import CampaignRepository
from trellis.domains.campaigns.schemas import TriggerSummary
from trellis.domains.campaigns.service import CampaignService, EnginePolicy, campaign_service
from trellis.domains.notifications.service import notification_service
from trellis.events.base import Outcome
from trellis.jobs.base import enqueue_job
from trellis.runtime.effects import Heartbeat, detached_ports, new_claim, step_lease
from trellis.runtime.journal import (
    Status,
    claim_due,
    due_batches,
    due_counts,
    expired_leases,
    mark_attempted,
)
from trellis.runtime.runner import Runner, Summary

log = logging.getLogger(__name__)

RUN_CAMPAIGN_JOB = "campaigns.run"
INTAKE_JOB = "campaigns.intake"
# Ranges cut at once (a batch each): how many workers can share one campaign's intake.
INTAKE_RANGES = 16
INTAKE_POLL_S = 0.2
STEPS_JOB = "campaigns.steps"
# Workers rung at most to share one campaign's due steps.
STEP_HELPERS = 8


async def _leaving(
    repo: CampaignRepository, campaign_id: int, segment_ids: list[int], leaves: list[int]
) -> list[int]:
    """Of contacts who left a source segment, the active members no other source holds and
    nobody added by hand: those who exit the campaign."""
    staying = await repo.in_any_segment(segment_ids, leaves)
    current = await repo.members(campaign_id, leaves)
    return [
        c
        for c in dict.fromkeys(leaves)
        if c not in staying
        and c in current
        and current[c].status == "active"
        and not current[c].manually_added
    ]


async def _start_intake(repo: CampaignRepository, source: CampaignSource) -> None:
    """A new segment source first takes in everyone already in the segment (from contact 0),
    then follows the segment's log of changes from the change it started at."""
    if source.backfill_after is None and source.cursor == 0:
        # Cursor 0 means "not started"; a segment with no change yet starts at -1 ("before the
        # first change"), so that change number 1 is still read.
        source.cursor = await repo.last_membership_change(source.source_id) or -1
        source.backfill_after = 0


class _RangeTakenOver(Exception):
    """This worker's claim on an intake range ran out and another worker took it."""


class CampaignDispatch:
    """The trigger loop of one campaign service: what runs, in which units of work."""

    def __init__(self, campaigns: CampaignService) -> None:
        self.campaigns = campaigns

    @property
    def policy(self) -> EnginePolicy:
        return self.campaigns.policy

    async def sync_sources(
        self,
        session: AsyncSession,
        campaign: Campaign,
        *,
        now: datetime,
        limit: int,
        steps: Summary | None = None,
    ) -> tuple[int, int, bool]:
        """Apply segment membership to campaign membership, one batch per call.

        A new source first brings in everyone already in the segment (a locked audience: those
        who joined by its lock time), then follows the segment's log of joins and leaves from
        where that began. Leavers exit when the campaign says so and no other source holds
        them. Returns (joined, exited, more to do); what the newcomers' first steps did is
        added to ``steps``."""
        repo = CampaignRepository(session)
        sources = [s for s in await repo.sources(campaign.id) if s.kind == "segment"]
        segment_ids = [s.source_id for s in sources]
        joined = exited = 0
        more = False
        runner: Runner | None = None

        async def get_runner() -> Runner:
            nonlocal runner
            if runner is None:
                runner = self.campaigns.runner(
                    session, await self.campaigns.load(session, campaign), now
                )
            return runner

        for source in sources:
            locked = source.locked_at if source.audience == "locked" else None
            await _start_intake(repo, source)
            if source.backfill_after is not None:
                members = await repo.segment_members(
                    source.source_id,
                    after_contact=source.backfill_after,
                    limit=limit,
                    added_before=locked,
                )
                if members:
                    result = await self.campaigns.add_members(
                        session, campaign, members, manual=False, now=now, runner=await get_runner()
                    )
                    joined += len(result.added) + len(result.restarted)
                if len(members) == limit:
                    source.backfill_after = members[-1]
                    more = True
                    continue
                source.backfill_after = None
            changes = await repo.membership_changes(
                source.source_id, after=source.cursor, limit=limit
            )
            if not changes:
                continue
            more = more or len(changes) == limit
            joins = [
                c
                for _, c, change, at in changes
                if change == "joined" and (locked is None or at <= locked)
            ]
            if joins:
                still = await repo.in_any_segment([source.source_id], joins)
                result = await self.campaigns.add_members(
                    session,
                    campaign,
                    [c for c in joins if c in still],
                    manual=False,
                    now=now,
                    runner=await get_runner(),
                )
                joined += len(result.added) + len(result.restarted)
            if campaign.exit_on_source_leave:
                exited += await self._exit_leavers(
                    session, campaign, source.source_id, segment_ids, changes, now, get_runner
                )
            source.cursor = changes[-1][0]
        await session.flush()
        if runner is not None:
            await runner.flush()
            if steps is not None:
                steps.add(runner.summary)
        return joined, exited, more

    async def _exit_leavers(
        self,
        session: AsyncSession,
        campaign: Campaign,
        segment_id: int,
        segment_ids: list[int],
        changes: Sequence[tuple[int, int, str, datetime]],
        now: datetime,
        get_runner: Callable[[], Awaitable[Runner]],
    ) -> int:
        """Take out of the campaign those the changes say left the segment and no other
        source holds; returns how many exited."""
        leaves = [c for _, c, change, _ in changes if change == "left"]
        left_at = {c: at for _, c, change, at in changes if change == "left"}
        if not leaves:
            return 0
        exited = 0
        out = await _leaving(CampaignRepository(session), campaign.id, segment_ids, leaves)
        # The trace says which segment they left and when (a rebuild logs a pass's
        # leaves at one instant, so there are few groups).
        by_time: dict[datetime, list[int]] = {}
        for contact_id in out:
            by_time.setdefault(left_at[contact_id], []).append(contact_id)
        for at, leavers in by_time.items():
            result = await self.campaigns.remove_members(
                session,
                campaign,
                leavers,
                manual=False,
                now=now,
                stats_runner=await get_runner(),
                reason=(
                    f"left the source segment {segment_id} at "
                    f"{at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
                ),
            )
            exited += len(result.removed)
        return exited

    async def _intake_in_parallel(
        self, database: Database, campaign_id: int, *, now: datetime, steps: Summary
    ) -> int | None:
        """A large first intake, in parallel: across workers in claimed ranges when jobs are
        distributed, side by side in this process otherwise (PostgreSQL only either way)."""
        backend = database.jobs
        if backend is not None and backend.distributed and database.dialect == "postgresql":
            return await self._intake_in_ranges(database, campaign_id, now=now)
        return await self._intake_side_by_side(database, campaign_id, now=now, steps=steps)

    async def _intake_in_ranges(
        self, database: Database, campaign_id: int, *, now: datetime
    ) -> int | None:
        """Cut the next part of a segment's existing members into ranges of one batch each,
        ring for workers to take them, take them here too, and move the intake cursor once
        every range is done. None when fewer than two batches are left (sync_sources does the
        rest). Ranges left by a dispatcher that died are finished before new ones are cut."""
        limit = self.policy.batch_size
        began = clock_time.monotonic()
        async with database.unit_of_work() as session:
            repo = CampaignRepository(session)
            for new in await repo.sources(campaign_id):
                if new.kind == "segment":
                    await _start_intake(repo, new)
            sources = await repo.sources(campaign_id)
            taking_in = [s for s in sources if s.kind == "segment" and s.backfill_after is not None]
            if not taking_in:
                return None
            intake = taking_in[0]
            total, _, _ = await intake_ranges_left(
                session, campaign_id=campaign_id, source_id=intake.source_id
            )
            if not total:
                members = await CampaignRepository(session).segment_members(
                    intake.source_id,
                    after_contact=int(intake.backfill_after or 0),
                    limit=INTAKE_RANGES * limit,
                    added_before=intake.locked_at if intake.audience == "locked" else None,
                )
                if len(members) < 2 * limit:
                    return None
                ranges: list[tuple[int, int]] = []
                after = int(intake.backfill_after or 0)
                for start in range(0, len(members), limit):
                    last = members[min(start + limit, len(members)) - 1]
                    ranges.append((after, last))
                    after = last
                await add_intake_ranges(
                    session, campaign_id=campaign_id, source_id=intake.source_id, ranges=ranges
                )
                for _ in range(len(ranges) - 1):
                    enqueue_job(INTAKE_JOB, {"campaign_id": campaign_id})
        joined = await self.take_intake_ranges(database, campaign_id, now=now)
        while True:
            async with database.unit_of_work() as session:
                _, left, end = await intake_ranges_left(
                    session, campaign_id=campaign_id, source_id=intake.source_id
                )
                if not left:
                    taken = await session.get(
                        CampaignSource, (campaign_id, intake.kind, intake.source_id)
                    )
                    if taken is not None and end is not None:
                        taken.backfill_after = max(int(taken.backfill_after or 0), end)
                    await drop_intake_ranges(
                        session, campaign_id=campaign_id, source_id=intake.source_id
                    )
                    return joined
            # Other workers hold the rest; a range whose worker died comes free when its
            # claim runs out, and is taken here.
            await asyncio.sleep(INTAKE_POLL_S)
            joined += await self.take_intake_ranges(
                database, campaign_id, now=now + timedelta(seconds=clock_time.monotonic() - began)
            )

    async def take_intake_ranges(
        self, database: Database, campaign_id: int, *, now: datetime
    ) -> int:
        """Claim intake ranges of a campaign and take their members in, one transaction per
        range, until none is free; the number that joined."""
        claim = new_claim()
        joined = 0
        while True:
            async with database.unit_of_work() as session:
                taken = await claim_intake_range(
                    session,
                    campaign_id=campaign_id,
                    claim=claim,
                    now=now,
                    until=now + timedelta(seconds=self.policy.lease_s),
                )
            if taken is None:
                return joined
            source_id, after, upto = taken
            try:
                joined += await self._take_in_range(
                    database, campaign_id, source_id, after, upto, claim=claim, now=now
                )
            except _RangeTakenOver:
                continue  # rolled back; the range's new holder takes it in
            except BaseException:
                async with database.unit_of_work() as session:
                    await release_intake_range(session, campaign_id=campaign_id, claim=claim)
                raise

    async def _take_in_range(
        self,
        database: Database,
        campaign_id: int,
        source_id: int,
        after: int,
        upto: int,
        *,
        claim: str,
        now: datetime,
    ) -> int:
        async with database.unit_of_work() as session:
            repo = CampaignRepository(session)
            campaign = await repo.get(campaign_id)
            source = await session.get(CampaignSource, (campaign_id, "segment", source_id))
            if campaign is None or source is None:
                return 0
            members = await repo.segment_members(
                source_id,
                after_contact=after,
                upto_contact=upto,
                limit=2 * self.policy.batch_size,
                added_before=source.locked_at if source.audience == "locked" else None,
            )
            runner = self.campaigns.runner(
                session, await self.campaigns.load(session, campaign), now
            )
            result = await self.campaigns.add_members(
                session, campaign, members, manual=False, now=now, runner=runner
            )
            await runner.flush()
            if not await finish_intake_range(
                session, campaign_id=campaign_id, source_id=source_id, after=after, claim=claim
            ):
                # Taken over after our claim ran out: its new holder takes it in.
                raise _RangeTakenOver
            return len(result.added) + len(result.restarted)

    async def _intake_side_by_side(
        self, database: Database, campaign_id: int, *, now: datetime, steps: Summary
    ) -> int | None:
        """Take in the next batches of a segment's existing members, one transaction per batch,
        all at once (PostgreSQL only); the number that joined, or None when there are fewer
        than two batches' worth left or nothing to take in (sync_sources does the rest).

        Each batch's member insert is its claim, so a batch done twice after a failure adds
        nobody twice; the intake cursor moves only once every batch has committed."""
        lanes, limit = self.policy.parallel_batches, self.policy.batch_size
        if lanes < 2 or database.dialect != "postgresql":
            return None
        async with database.unit_of_work(read_only=True) as session:
            sources = await CampaignRepository(session).sources(campaign_id)
            taking_in = [s for s in sources if s.kind == "segment" and s.backfill_after is not None]
            if not taking_in:
                return None
            intake, start = taking_in[0], int(taking_in[0].backfill_after or 0)
            members = await CampaignRepository(session).segment_members(
                intake.source_id,
                after_contact=start,
                limit=lanes * limit,
                added_before=intake.locked_at if intake.audience == "locked" else None,
            )
        if len(members) < 2 * limit:
            return None

        async def take_in(batch: list[int]) -> int:
            async with database.unit_of_work() as session:
                campaign = await CampaignRepository(session).get(campaign_id)
                if campaign is None:
                    return 0
                runner = self.campaigns.runner(
                    session, await self.campaigns.load(session, campaign), now
                )
                result = await self.campaigns.add_members(
                    session, campaign, batch, manual=False, now=now, runner=runner
                )
                await runner.flush()
                steps.add(runner.summary)
                return len(result.added) + len(result.restarted)

        # Every batch finishes (commits or rolls back) before a failure is passed on.
        outcomes = await asyncio.gather(
            *(take_in(members[i : i + limit]) for i in range(0, len(members), limit)),
            return_exceptions=True,
        )
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        if failures:
            raise failures[0]
        joined = [o for o in outcomes if isinstance(o, int)]
        async with database.unit_of_work() as session:
            source = await session.get(CampaignSource, (campaign_id, intake.kind, intake.source_id))
            if source is not None and source.backfill_after == start:
                source.backfill_after = members[-1]
        return sum(joined)

    def _adjusted_reached(
        self,
        campaign: Campaign,
        periods: Sequence[tuple[datetime, datetime | None]],
        reached: datetime,
        now: datetime,
    ) -> datetime:
        """The reactivation behaviours (Mautic 7): how a pause moves an interval's start."""
        if campaign.reactivation == "restart_on_publish" and campaign.last_published_at:
            return max(reached, campaign.last_published_at)
        if campaign.reactivation == "count_only_while_published":
            paused = timedelta()
            previous_end: datetime | None = None
            for started, ended in periods:
                if previous_end is not None and started > reached:
                    paused += started - max(previous_end, reached)
                previous_end = ended or now
            return reached + paused
        return reached

    async def run_due(
        self,
        database: Database,
        campaign: Campaign,
        event_id: int,
        *,
        now: datetime,
        status: Status,
    ) -> Summary:
        """Claim and run one batch of due steps of one event (or expired decisions)."""
        summary = Summary()
        claim = new_claim()
        async with database.unit_of_work() as session:
            loaded = await self.campaigns.load(session, campaign)
            key = loaded.keys.get(event_id)
            if key is None:
                return summary
            lease = now + timedelta(seconds=self.policy.lease_s)
            claimed = await claim_due(
                session,
                event_id=event_id,
                status=status,
                now=now,
                limit=self.policy.batch_size,
                lease_until=lease,
                claim=claim,
            )
            if not claimed:
                return summary
            external = loaded.types[key].external and status is Status.SCHEDULED
            if status is Status.SCHEDULED and campaign.reactivation != "count_all_time":
                periods = await CampaignRepository(session).periods(campaign.id)
                claimed = [
                    (c, r, self._adjusted_reached(campaign, periods, at, now), a)
                    for c, r, at, a in claimed
                ]
            runner = self.campaigns.runner(session, loaded, now, claim=claim)
            due_now: dict[int, int] = {}
            if status is Status.WAITING:
                await runner.expire_decisions(key, claimed)
            elif not external:
                await runner.run_claimed(key, claimed)
            else:
                # Outside effects: the claim is committed first; the calls happen outside any
                # transaction (see _call_out), and the lease brings the steps back if we die.
                due_now = await runner.due_claimed(key, claimed)
            await runner.flush()
            summary.add(runner.summary)
        if due_now:
            summary.add(
                await self._call_out(
                    database, campaign, key, event_id, due_now, now=now, claim=claim
                )
            )
        if summary.dead:
            await self._failure_guard(database, campaign.id, now=now)
        return summary

    async def _call_out(
        self,
        database: Database,
        campaign: Campaign,
        key: str,
        event_id: int,
        rotations: dict[int, int],
        *,
        now: datetime,
        claim: str,
    ) -> Summary:
        """Make the outside calls of claimed steps, at most ``calls_in_flight`` at a time.

        Each window is one short transaction before its calls (the intent: ``attempted_at``,
        and the contact values the calls need, read while the claim is checked) and the
        results are recorded in the next short one, with the next window's intent. No
        transaction is open while a call is on the wire, and the lease is renewed meanwhile:
        a crash repeats at most the window in flight, and nothing is repeated while this
        worker is alive."""
        summary = Summary()
        ids = list(rotations)
        window = max(1, self.policy.calls_in_flight)
        pending: tuple[dict[int, int], Mapping[int, Outcome]] | None = None
        async with step_lease(
            database,
            event_id=event_id,
            claim=claim,
            now=now,
            lease_s=self.policy.lease_s,
        ):
            for start in range(0, len(ids) + window, window):
                part = ids[start : start + window]
                if not part and pending is None:
                    break
                async with database.unit_of_work() as session:
                    loaded = await self.campaigns.load(session, campaign)
                    runner = self.campaigns.runner(session, loaded, now, claim=claim)
                    if pending is not None:
                        await runner.settle_claimed(key, *pending)
                        pending = None
                    owned = (
                        await mark_attempted(
                            session,
                            event_id=event_id,
                            contact_ids=part,
                            claim=claim,
                            now=now,
                        )
                        if part
                        else []
                    )
                    values = await runner.ports.contacts.values(owned) if owned else {}
                    await runner.flush()
                    summary.add(runner.summary)
                if not owned:
                    continue
                mine = {cid: rotations[cid] for cid in owned}
                ports = detached_ports(self.campaigns.http, values)
                context = runner.step_context(key, mine, ports)
                handler = loaded.event_types[key].run
                assert handler is not None
                pending = (mine, await handler(context, loaded.configs[key], list(mine)))
        return summary

    async def _failure_guard(self, database: Database, campaign_id: int, *, now: datetime) -> None:
        async with database.unit_of_work() as session:
            repo = CampaignRepository(session)
            dead, finished = await repo.recent_outcomes(campaign_id)
            if (
                finished < self.policy.failure_min_volume
                or dead / finished < self.policy.failure_rate
            ):
                return
            campaign = await repo.lock(campaign_id)
            if campaign is None or not campaign.is_published:
                return
            reason = (
                f"Paused: {dead} of {finished} steps failed for good "
                f"({dead / finished:.0%}, over the {self.policy.failure_rate:.0%} limit)."
            )
            campaign.is_published = False
            campaign.paused_reason = reason
            period = await repo.open_period(campaign.id)
            if period is not None:
                period.ended_at = now
            campaign.version += 1
            campaign.updated_at = now
            await session.flush()
            await audit.record(
                session,
                actor=Actor.system("failure guard"),
                action=AuditAction.UNPUBLISH,
                entity_type="campaign",
                entity_id=campaign.id,
                entity_name=campaign.name,
                changes={
                    "is_published": {"old": True, "new": False},
                    "paused_reason": {"old": None, "new": reason},
                },
                now=now,
            )
            await notification_service.notify(
                session,
                user_ids=[campaign.created_by_id],
                kind="campaign.paused",
                title=f"Campaign “{campaign.name}” was paused",
                body=reason,
                link=f"/campaigns/{campaign.id}",
                now=now,
            )
            log.warning(
                "campaign paused by the failure guard",
                extra={"campaign_id": campaign.id, "reason": reason},
            )

    async def trigger(
        self,
        database: Database,
        *,
        now: datetime,
        campaign_ids: Sequence[int] | None = None,
        max_rounds: int = 10_000,
        progress: Callable[[TriggerSummary], None] | None = None,
    ) -> TriggerSummary:
        """Run everything due at ``now`` until nothing is: memberships, first steps, scheduled
        steps, expired decisions. Only the campaigns whose lease this call takes: a campaign
        another process is dispatching is left to it."""
        started = clock_time.monotonic()
        summary = TriggerSummary()
        holder = new_claim()
        lease_s = self.policy.lease_s
        async with database.unit_of_work() as session:
            await expired_leases(session, now=now)
            campaigns = await CampaignRepository(session).published(
                now=now, campaign_ids=campaign_ids
            )
            mine = await take_campaign_leases(
                session,
                [c.id for c in campaigns],
                holder=holder,
                now=now,
                until=now + timedelta(seconds=lease_s),
            )
        campaigns = [c for c in campaigns if c.id in mine]
        summary.campaigns = len(campaigns)
        if not campaigns:
            summary.seconds = round(clock_time.monotonic() - started, 3)
            return summary
        held = [c.id for c in campaigns]

        async def renew(session: AsyncSession, until: datetime) -> int:
            return await renew_campaign_leases(session, held, holder=holder, until=until)

        try:
            async with Heartbeat(database, renew, now=now, lease_s=lease_s):
                await self._run_campaigns(
                    database,
                    campaigns,
                    now=now,
                    summary=summary,
                    max_rounds=max_rounds,
                    progress=progress,
                )
        finally:
            async with database.unit_of_work() as session:
                await release_campaign_leases(session, held, holder=holder)
        summary.seconds = round(clock_time.monotonic() - started, 3)
        return summary

    async def _run_campaigns(
        self,
        database: Database,
        campaigns: Sequence[Campaign],
        *,
        now: datetime,
        summary: TriggerSummary,
        max_rounds: int,
        progress: Callable[[TriggerSummary], None] | None,
    ) -> None:
        by_id = {c.id: c for c in campaigns}
        for campaign in campaigns:
            more = True
            while more:
                # The first steps of those who join run as they join: counted with the rest.
                entry = Summary()
                side_by_side = await self._intake_in_parallel(
                    database, campaign.id, now=now, steps=entry
                )
                if side_by_side is not None:
                    summary.joined += side_by_side
                    _add_steps(summary, entry)
                    if progress:
                        progress(summary)
                    continue
                async with database.unit_of_work() as session:
                    fresh = await CampaignRepository(session).get(campaign.id)
                    assert fresh is not None
                    joined, exited, more = await self.sync_sources(
                        session, fresh, now=now, limit=self.policy.batch_size, steps=entry
                    )
                summary.joined += joined
                summary.exited += exited
                _add_steps(summary, entry)
                if progress:
                    progress(summary)
        backend = database.jobs
        if backend is not None and backend.distributed:
            # Scheduled steps are claimed in disjoint batches: ring for other workers to take
            # a share of them while this one works through them too.
            async with database.unit_of_work(read_only=True) as session:
                due = await due_counts(session, campaign_ids=list(by_id), now=now)
                for campaign_id, count in due.items():
                    batches = -(-count // self.policy.batch_size)
                    for _ in range(min(batches - 1, STEP_HELPERS)):
                        enqueue_job(STEPS_JOB, {"campaign_id": campaign_id})
        await self.run_due_steps(
            database, campaigns, now=now, summary=summary, max_rounds=max_rounds, progress=progress
        )

    async def run_due_steps(
        self,
        database: Database,
        campaigns: Sequence[Campaign],
        *,
        now: datetime,
        summary: TriggerSummary,
        max_rounds: int = 10_000,
        progress: Callable[[TriggerSummary], None] | None = None,
    ) -> None:
        """Run the campaigns' due steps and expired decisions, batch by batch, until none is
        left. Safe beside other workers doing the same: every batch is claimed first."""
        by_id = {c.id: c for c in campaigns}
        for _ in range(max_rounds):
            async with database.unit_of_work(read_only=True) as session:
                due = await due_batches(
                    session,
                    statuses=[Status.SCHEDULED, Status.WAITING],
                    now=now,
                    campaign_ids=list(by_id),
                    limit=100,
                )
            if not due:
                break
            for campaign_id, event_id, status in due:
                result = await self.run_due(
                    database, by_id[campaign_id], event_id, now=now, status=status
                )
                _add_steps(summary, result)
                if progress:
                    progress(summary)

    async def help_with_steps(self, database: Database, campaign_id: int, *, now: datetime) -> int:
        """A worker's share of a campaign's due steps (rung by its dispatcher); steps run."""
        async with database.unit_of_work(read_only=True) as session:
            campaigns = await CampaignRepository(session).published(
                now=now, campaign_ids=[campaign_id]
            )
        summary = TriggerSummary()
        if campaigns:
            await self.run_due_steps(database, campaigns, now=now, summary=summary)
        return summary.executed

    async def dispatch(self, database: Database, *, now: datetime) -> list[int]:
        """For the distributed mode: wake a worker for every running campaign instead of
        running them here. Workers may take the same campaign at once; claims keep every step
        single."""
        async with database.unit_of_work() as session:
            await expired_leases(session, now=now)
            campaigns = await CampaignRepository(session).published(now=now)
            for campaign in campaigns:
                enqueue_job(
                    RUN_CAMPAIGN_JOB,
                    {"campaign_id": campaign.id},
                    dedupe_key=f"{RUN_CAMPAIGN_JOB}:{campaign.id}",
                )
        return [c.id for c in campaigns]


def _add_steps(summary: TriggerSummary, steps: Summary) -> None:
    summary.decisions_expired += steps.expired
    summary.executed += steps.executed
    summary.scheduled += steps.scheduled
    summary.waiting += steps.waiting
    summary.failed += steps.failed
    summary.dead += steps.dead
    for event_type, executed in steps.steps.items():
        summary.steps[event_type] = summary.steps.get(event_type, 0) + executed


campaign_dispatch = CampaignDispatch(campaign_service)
