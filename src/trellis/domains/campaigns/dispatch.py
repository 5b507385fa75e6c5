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
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor
from trellis.db.models import Campaign, CampaignSource
from trellis.db.session import Database
from trellis.domains.audit.service import AuditAction, audit
from trellis.domains.campaigns.repository import CampaignRepository
from trellis.domains.campaigns.schemas import TriggerSummary
from trellis.domains.campaigns.service import CampaignService, EnginePolicy, campaign_service
from trellis.domains.notifications.service import notification_service
from trellis.jobs.base import enqueue_job
from trellis.runtime.journal import Status, claim_due, due_batches, expired_leases
from trellis.runtime.runner import Runner, Summary

log = logging.getLogger(__name__)

RUN_CAMPAIGN_JOB = "campaigns.run"


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
            if source.backfill_after is None and source.cursor == 0:
                # Cursor 0 means "not started"; a segment with no change yet starts at -1
                # ("before the first change"), so that change number 1 is still read.
                source.cursor = await repo.last_membership_change(source.source_id) or -1
                source.backfill_after = 0
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
            leaves = [c for _, c, change, _ in changes if change == "left"]
            left_at = {c: at for _, c, change, at in changes if change == "left"}
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
            if leaves and campaign.exit_on_source_leave:
                staying = await repo.in_any_segment(segment_ids, leaves)
                current = await repo.members(campaign.id, leaves)
                out = [
                    c
                    for c in dict.fromkeys(leaves)
                    if c not in staying
                    and c in current
                    and current[c].status == "active"
                    and not current[c].manually_added
                ]
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
                            f"left the source segment {source.source_id} at "
                            f"{at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
                        ),
                    )
                    exited += len(result.removed)
            source.cursor = changes[-1][0]
        await session.flush()
        if runner is not None:
            await runner.flush()
            if steps is not None:
                steps.add(runner.summary)
        return joined, exited, more

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
            runner = self.campaigns.runner(session, loaded, now)
            if status is Status.WAITING:
                await runner.expire_decisions(key, claimed)
            elif not external:
                await runner.run_claimed(key, claimed)
            else:
                # Outside effects: the claim is committed first, so a crash after the call can
                # never lose the record of it; the lease brings the step back if we die.
                runner.stats.left(event_id, Status.SCHEDULED, len(claimed))
            await runner.flush()
            summary.add(runner.summary)
        if external:
            async with database.unit_of_work() as session:
                runner = self.campaigns.runner(
                    session, await self.campaigns.load(session, campaign), now
                )
                await runner.run_claimed(key, claimed, counted=True)
                await runner.flush()
                summary.add(runner.summary)
        if summary.dead:
            await self._failure_guard(database, campaign.id, now=now)
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
        steps, expired decisions."""
        started = clock_time.monotonic()
        summary = TriggerSummary()
        async with database.unit_of_work() as session:
            await expired_leases(session, now=now)
            campaigns = await CampaignRepository(session).published(
                now=now, campaign_ids=campaign_ids
            )
        summary.campaigns = len(campaigns)
        by_id = {c.id: c for c in campaigns}
        for campaign in campaigns:
            more = True
            while more:
                # The first steps of those who join run as they join: counted with the rest.
                entry = Summary()
                side_by_side = await self._intake_side_by_side(
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
        summary.seconds = round(clock_time.monotonic() - started, 3)
        return summary

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
