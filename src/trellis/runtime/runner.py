"""The shell around the engine: load what a batch needs, ask the engine what happens, persist
it, carry out the effects.

A ``Runner`` works inside one unit of work on one campaign. It executes an event for a batch of
contacts (one handler call, a few statements), plans the children with the pure engine, inserts
scheduled and waiting steps, and recurses into the children that are due now, so that a chain of
immediate steps completes in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from trellis.db.models import Contact
from trellis.engine.advance import ContactTime, Plan, plan_children, plan_entry, run_order, step_due
from trellis.engine.graph import NO, YES, Graph, Kind, TypeInfo
from trellis.events.base import (
    DONE,
    Behaviour,
    EventType,
    Outcome,
    OutcomeStatus,
    Ports,
    StepContext,
)
from trellis.runtime.journal import (
    StatDeltas,
    Status,
    active_rotations,
    attempts_of,
    finish_steps,
    held_steps,
    insert_steps,
    reschedule_steps,
    retry_steps,
    take_decisions,
)

log = logging.getLogger(__name__)

MAX_CHAIN_DEPTH = 200


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    first_delay_s: float = 60.0
    max_delay_s: float = 6 * 3600.0

    def delay(self, attempt: int) -> timedelta:
        seconds = min(self.first_delay_s * 2 ** max(attempt - 1, 0), self.max_delay_s)
        return timedelta(seconds=seconds)


@dataclass
class LoadedCampaign:
    """A campaign's graph with everything execution needs, resolved once per unit of work."""

    id: int
    graph: Graph
    types: dict[str, TypeInfo]
    event_types: dict[str, EventType]
    configs: dict[str, Any]
    ids: dict[str, int]
    names: dict[str, str]
    default_timezone: str = "UTC"
    keys: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.keys = {v: k for k, v in self.ids.items()}


@dataclass
class Summary:
    """What a unit of work did, for the CLI and the tests."""

    executed: int = 0
    scheduled: int = 0
    waiting: int = 0
    failed: int = 0
    dead: int = 0
    expired: int = 0
    # Steps executed by event type ("email.send": 120): the same steps as ``executed``.
    steps: dict[str, int] = field(default_factory=dict)

    def count(self, event_type: str, executed: int) -> None:
        if executed:
            self.executed += executed
            self.steps[event_type] = self.steps.get(event_type, 0) + executed

    def add(self, other: Summary) -> None:
        for event_type, executed in other.steps.items():
            self.steps[event_type] = self.steps.get(event_type, 0) + executed
        self.expired += other.expired
        self.executed += other.executed
        self.scheduled += other.scheduled
        self.waiting += other.waiting
        self.failed += other.failed
        self.dead += other.dead


PortsFactory = Callable[["Runner"], Ports]


class Runner:
    def __init__(
        self,
        session: AsyncSession,
        *,
        campaign: LoadedCampaign,
        ports: PortsFactory,
        now: datetime,
        retry: RetryPolicy,
        claim: str | None = None,
    ) -> None:
        self.session = session
        # The token of the claim this runner works under: claimed steps are finished only
        # while it still holds them.
        self.claim = claim
        self.campaign = campaign
        self.now = now
        self.retry = retry
        self.stats = StatDeltas()
        self.summary = Summary()
        self.ports = ports(self)
        self._depth = 0

    # -- entry points -------------------------------------------------------------------------

    async def start(self, rotations: Mapping[int, int]) -> None:
        """New members (or a new rotation): plan the campaign's first steps for them."""
        await self._apply(
            plan_children(
                self.campaign.graph,
                self.campaign.types,
                None,
                dict.fromkeys(rotations),
                now=self.now,
                contacts=await self._contact_times(list(rotations), None),
                default_timezone=self.campaign.default_timezone,
            ),
            rotations,
        )

    async def run_claimed(
        self,
        key: str,
        claimed: Sequence[tuple[int, int, datetime, int]],
        *,
        counted: bool = False,
    ) -> None:
        """Run steps claimed from the schedule. Their due time is checked again against the
        event's current timing first: a delay lengthened since they were scheduled postpones
        them instead of running them early."""
        due_now = await self.due_claimed(key, claimed, counted=counted)
        await self._execute(key, due_now, claimed=True)

    async def due_claimed(
        self,
        key: str,
        claimed: Sequence[tuple[int, int, datetime, int]],
        *,
        counted: bool = False,
    ) -> dict[int, int]:
        """Of steps claimed from the schedule, put back those whose (since lengthened) timing
        is not due yet; returns the rest (contact -> rotation), due to run now."""
        node = self.campaign.graph.get(key)
        event_id = self.campaign.ids[key]
        if not counted:
            self.stats.left(event_id, Status.SCHEDULED, len(claimed))
        rotations = {cid: rotation for cid, rotation, _, _ in claimed}
        later: dict[int, datetime] = {}
        if not node.timing.is_immediate:
            contacts = await self._contact_times(list(rotations), key)
            for contact_id, _, reached, _ in claimed:
                # Counted from when the step was reached, not from now: a step that is late
                # (the scheduler was down, or --now jumped ahead) runs now instead of waiting
                # for the next allowed hour.
                due = step_due(
                    node,
                    base=reached,
                    now=reached,
                    contact=contacts.get(contact_id, ContactTime()),
                    default_timezone=self.campaign.default_timezone,
                )
                if due is not None and due > self.now + timedelta(seconds=1):
                    later[contact_id] = due
        await self._reschedule(key, later)
        return {cid: rot for cid, rot in rotations.items() if cid not in later}

    def step_context(self, key: str, rotations: Mapping[int, int], ports: Ports) -> StepContext:
        event_type = self.campaign.event_types[key]
        return StepContext(
            campaign_id=self.campaign.id,
            event_id=self.campaign.ids[key],
            event_key=key,
            event_name=self.campaign.names.get(key) or event_type.label,
            now=self.now,
            ports=ports,
            rotations=rotations,
        )

    async def settle_claimed(
        self, key: str, rotations: Mapping[int, int], outcomes: Mapping[int, Outcome]
    ) -> None:
        """Record what outside calls of claimed steps gave, and go on from there. Only the
        steps this runner's claim still holds are recorded: one taken over by another worker
        after its lease ran out is left to that worker."""
        assert self.claim is not None
        held = await held_steps(
            self.session,
            event_id=self.campaign.ids[key],
            contact_ids=list(rotations),
            claim=self.claim,
        )
        if len(held) < len(rotations):
            log.warning(
                "claimed steps were taken over before their results were recorded",
                extra={"event_id": self.campaign.ids[key], "lost": len(rotations) - len(held)},
            )
        mine = {cid: rot for cid, rot in rotations.items() if cid in held}
        await self._settle(key, mine, {cid: outcomes.get(cid, DONE) for cid in mine}, claimed=True)

    async def decide(
        self, offers: Sequence[tuple[int, Behaviour, Sequence[tuple[int, int, datetime]]]]
    ) -> list[bool]:
        """Offer behaviours to waiting decisions: each offer is a contact, what it did, and the
        decisions it waits on here (event, rotation, reached). For each offer the first
        decision that matches takes its yes path now; the offers are decided together, one
        statement per decision event, and their yes paths run as one batch per event.
        Returns, per offer, whether it took a decision."""
        wanted: dict[int, dict[int, tuple[int, int]]] = {}  # event -> contact -> (rot, offer)
        for index, (contact_id, behaviour, waiting) in enumerate(offers):
            for event_id, rotation, _reached in waiting:
                key = self.campaign.keys.get(event_id)
                if key is None:
                    continue
                event_type = self.campaign.event_types[key]
                if event_type.behaviour != behaviour.kind or event_type.matches is None:
                    continue
                if not event_type.matches(self.campaign.configs[key], behaviour):
                    continue
                # The same contact twice in one batch: its earlier behaviour decides.
                wanted.setdefault(event_id, {}).setdefault(contact_id, (rotation, index))
                break
        took = [False] * len(offers)
        for event_id, by_contact in wanted.items():
            rotations = {cid: rotation for cid, (rotation, _) in by_contact.items()}
            taken = await take_decisions(
                self.session,
                event_id=event_id,
                rotations=rotations,
                status=Status.YES,
                now=self.now,
            )
            if not taken:
                continue
            for contact_id in taken:
                took[by_contact[contact_id][1]] = True
            self.stats.left(event_id, Status.WAITING, len(taken))
            self.stats.entered(event_id, Status.YES, len(taken))
            self._count(self.campaign.keys[event_id], len(taken))
            await self._continue(
                self.campaign.keys[event_id],
                dict.fromkeys(taken, YES),
                {cid: rotations[cid] for cid in taken},
            )
        return took

    async def expire_decisions(
        self, key: str, claimed: Sequence[tuple[int, int, datetime, int]]
    ) -> None:
        """Waiting decisions whose time ran out take their no path."""
        event_id = self.campaign.ids[key]
        rotations = {cid: rotation for cid, rotation, _, _ in claimed}
        await finish_steps(
            self.session,
            event_id=event_id,
            contact_ids=list(rotations),
            status=Status.NO,
            now=self.now,
            claim=self.claim,
        )
        self.stats.left(event_id, Status.WAITING, len(rotations))
        self.stats.entered(event_id, Status.NO, len(rotations))
        self._count(key, len(rotations))
        self.summary.expired += len(rotations)
        base = {cid: reached for cid, _, reached, _ in claimed}
        plan = plan_children(
            self.campaign.graph,
            self.campaign.types,
            key,
            dict.fromkeys(rotations, NO),
            now=self.now,
            base=base,
            # The "no" steps are planned here: their timings need the contacts' timezones.
            contacts=await self._contact_times(list(rotations), key, children=True),
            default_timezone=self.campaign.default_timezone,
        )
        await self._apply(plan, rotations)

    async def jump(self, target: str, rotations: Mapping[int, int]) -> None:
        """Start the target step for contacts in their new rotation, its timing counted from
        now."""
        if target not in self.campaign.graph.nodes:
            return
        plan = plan_entry(
            self.campaign.graph,
            self.campaign.types,
            target,
            list(rotations),
            now=self.now,
            contacts=await self._contact_times(list(rotations), target),
            default_timezone=self.campaign.default_timezone,
        )
        await self._apply(plan, rotations)

    async def flush(self) -> None:
        await self.stats.flush(self.session)

    def _count(self, key: str, executed: int) -> None:
        self.summary.count(self.campaign.event_types[key].key, executed)

    # -- execution ------------------------------------------------------------------------------

    async def _execute(self, key: str, rotations: dict[int, int], *, claimed: bool) -> None:
        """Run one event for contacts. Unclaimed contacts get their step inserted first: the
        insert is the claim, and contacts that already had it are dropped."""
        if not rotations:
            return
        info = self.campaign.types[key]
        event_type = self.campaign.event_types[key]
        event_id = self.campaign.ids[key]
        config = self.campaign.configs[key]
        if info.kind is Kind.CONDITION:
            await self._condition(key, rotations, claimed=claimed)
            return
        if not claimed:
            owned = await insert_steps(
                self.session,
                campaign_id=self.campaign.id,
                event_id=event_id,
                rows=[(cid, rot, None) for cid, rot in rotations.items()],
                status=Status.DONE,
                now=self.now,
            )
            rotations = {cid: rotations[cid] for cid in owned}
            if not rotations:
                return
        context = self.step_context(key, rotations, self.ports)
        assert event_type.run is not None
        outcomes = await event_type.run(context, config, list(rotations))
        await self._settle(key, rotations, outcomes, claimed=claimed)

    async def _settle(
        self,
        key: str,
        rotations: Mapping[int, int],
        outcomes: Mapping[int, Outcome],
        *,
        claimed: bool,
    ) -> None:
        """Persist the outcomes of an action for its contacts, then plan what follows."""
        if not rotations:
            return
        info = self.campaign.types[key]
        event_type = self.campaign.event_types[key]
        event_id = self.campaign.ids[key]
        ids = list(rotations)
        warned = {cid: o.reason for cid, o in outcomes.items() if o.status is OutcomeStatus.WARNED}
        failed = {cid: o.reason for cid, o in outcomes.items() if o.status is OutcomeStatus.FAILED}
        done = [cid for cid in ids if cid not in warned and cid not in failed]
        from_status = Status.RUNNING if claimed else Status.DONE
        claim = self.claim if claimed else None
        if claimed and done:
            await finish_steps(
                self.session,
                event_id=event_id,
                contact_ids=done,
                status=Status.DONE,
                now=self.now,
                claim=claim,
            )
        if warned:
            await finish_steps(
                self.session,
                event_id=event_id,
                contact_ids=list(warned),
                status=Status.WARNED,
                now=self.now,
                details={cid: {"warning": r} for cid, r in warned.items()},
                from_status=from_status,
                claim=claim,
            )
        self.stats.entered(event_id, Status.DONE, len(done))
        self.stats.entered(event_id, Status.WARNED, len(warned))
        self._count(key, len(done) + len(warned))
        if failed:
            await self._failed(key, failed, from_status=from_status)
        passed = [*done, *warned]
        if info.jumps:
            return
        if event_type.ends_membership:
            # The step may have taken contacts out of this campaign: they stop here.
            still = await active_rotations(
                self.session, campaign_id=self.campaign.id, contact_ids=passed
            )
            passed = [cid for cid in passed if still.get(cid) == rotations[cid]]
        await self._continue(key, dict.fromkeys(passed), {c: rotations[c] for c in passed})

    async def _condition(self, key: str, rotations: dict[int, int], *, claimed: bool) -> None:
        event_type = self.campaign.event_types[key]
        event_id = self.campaign.ids[key]
        config = self.campaign.configs[key]
        ids = list(rotations)
        paths: dict[int, str]
        if event_type.choose is not None:
            paths = {cid: event_type.choose(config, key, cid) for cid in ids}
        else:
            assert event_type.to_filter is not None
            matching = await self.ports.filters.matching(event_type.to_filter(config), ids)
            paths = {cid: YES if cid in matching else NO for cid in ids}
        by_status: dict[Status, list[int]] = {Status.YES: [], Status.NO: []}
        for cid, path in paths.items():
            by_status[Status.NO if path == NO else Status.YES].append(cid)
        owned: list[int] = []
        for status, members in by_status.items():
            if not members:
                continue
            details = (
                {cid: {"branch": paths[cid]} for cid in members}
                if event_type.choose is not None
                else None
            )
            if claimed:
                await finish_steps(
                    self.session,
                    event_id=event_id,
                    contact_ids=members,
                    status=status,
                    now=self.now,
                    details=details,
                    claim=self.claim,
                )
                owned.extend(members)
            else:
                owned.extend(
                    await insert_steps(
                        self.session,
                        campaign_id=self.campaign.id,
                        event_id=event_id,
                        rows=[(cid, rotations[cid], None) for cid in members],
                        status=status,
                        now=self.now,
                        details=details,
                    )
                )
            mine = set(owned)
            self.stats.entered(event_id, status, len([c for c in members if c in mine]))
        self._count(key, len(owned))
        await self._continue(
            key, {cid: paths[cid] for cid in owned}, {cid: rotations[cid] for cid in owned}
        )

    async def _failed(self, key: str, failed: Mapping[int, str], *, from_status: Status) -> None:
        event_id = self.campaign.ids[key]
        attempts = await attempts_of(self.session, event_id=event_id, contact_ids=list(failed))
        retries: dict[int, tuple[datetime, str]] = {}
        dead: dict[int, Mapping[str, Any]] = {}
        for cid, reason in failed.items():
            attempt = attempts.get(cid, 0) + 1
            if attempt >= self.retry.max_attempts:
                dead[cid] = {"error": reason, "attempts": attempt}
            else:
                retries[cid] = (self.now + self.retry.delay(attempt), reason)
        if from_status is Status.DONE:
            # Inserted as done before the handler ran; a failure turns them back into steps.
            await finish_steps(
                self.session,
                event_id=event_id,
                contact_ids=list(failed),
                status=Status.RUNNING,
                now=self.now,
                from_status=Status.DONE,
            )
        if retries:
            await retry_steps(self.session, event_id=event_id, retries=retries)
            self.stats.entered(event_id, Status.SCHEDULED, len(retries))
        if dead:
            await finish_steps(
                self.session,
                event_id=event_id,
                contact_ids=list(dead),
                status=Status.DEAD,
                now=self.now,
                details=dead,
            )
            self.stats.entered(event_id, Status.DEAD, len(dead))
        self.stats.failed(event_id, len(failed))
        self.summary.failed += len(failed)
        self.summary.dead += len(dead)

    async def _continue(
        self, key: str, paths: Mapping[int, str | None], rotations: Mapping[int, int]
    ) -> None:
        if not paths:
            return
        plan = plan_children(
            self.campaign.graph,
            self.campaign.types,
            key,
            paths,
            now=self.now,
            contacts=await self._contact_times(list(paths), key, children=True),
            default_timezone=self.campaign.default_timezone,
        )
        await self._apply(plan, rotations)

    async def _apply(self, plan: Plan, rotations: Mapping[int, int]) -> None:
        # Grouped by step and anchor: a step is stored as reached at the instant its timing
        # counts from (see Scheduled.anchor), which is now unless the plan says otherwise.
        by_node: dict[tuple[str, datetime], list[tuple[int, int, datetime | None]]] = {}
        for step in plan.scheduled:
            by_node.setdefault((step.node, step.anchor or self.now), []).append(
                (step.contact_id, rotations[step.contact_id], step.due_at)
            )
        for (key, reached), rows in by_node.items():
            inserted = await insert_steps(
                self.session,
                campaign_id=self.campaign.id,
                event_id=self.campaign.ids[key],
                rows=rows,
                status=Status.SCHEDULED,
                now=reached,
            )
            self.stats.entered(self.campaign.ids[key], Status.SCHEDULED, len(inserted))
            self.summary.scheduled += len(inserted)
        waiting: dict[tuple[str, datetime], list[tuple[int, int, datetime | None]]] = {}
        for wait in plan.waiting:
            waiting.setdefault((wait.node, wait.anchor or self.now), []).append(
                (wait.contact_id, rotations[wait.contact_id], wait.deadline)
            )
        for (key, reached), rows in waiting.items():
            inserted = await insert_steps(
                self.session,
                campaign_id=self.campaign.id,
                event_id=self.campaign.ids[key],
                rows=rows,
                status=Status.WAITING,
                now=reached,
            )
            self.stats.entered(self.campaign.ids[key], Status.WAITING, len(inserted))
            self.summary.waiting += len(inserted)
        skipped: dict[str, list[tuple[int, int, datetime | None]]] = {}
        reasons: dict[str, dict[int, Mapping[str, Any]]] = {}
        for item in plan.unschedulable:
            skipped.setdefault(item.node, []).append(
                (item.contact_id, rotations[item.contact_id], None)
            )
            reasons.setdefault(item.node, {})[item.contact_id] = {"skipped": item.reason}
        for key, rows in skipped.items():
            inserted = await insert_steps(
                self.session,
                campaign_id=self.campaign.id,
                event_id=self.campaign.ids[key],
                rows=rows,
                status=Status.SKIPPED,
                now=self.now,
                details=reasons[key],
            )
            self.stats.entered(self.campaign.ids[key], Status.SKIPPED, len(inserted))
        if not plan.run_now:
            return
        self._depth += 1
        if self._depth > MAX_CHAIN_DEPTH:
            raise RuntimeError("campaign chain too deep")
        try:
            for key in run_order(self.campaign.graph, self.campaign.types, list(plan.run_now)):
                ids = plan.run_now[key]
                await self._execute(key, {cid: rotations[cid] for cid in ids}, claimed=False)
        finally:
            self._depth -= 1

    async def _reschedule(self, key: str, later: Mapping[int, datetime]) -> None:
        if not later:
            return
        event_id = self.campaign.ids[key]
        await reschedule_steps(self.session, event_id=event_id, due=later)
        self.stats.entered(event_id, Status.SCHEDULED, len(later))

    # -- contact data for timing ----------------------------------------------------------------

    async def _contact_times(
        self, contact_ids: Sequence[int], key: str | None, *, children: bool = False
    ) -> dict[int, ContactTime]:
        """Timezones and date fields, loaded only when a timing that will be computed needs
        them."""
        graph = self.campaign.graph
        if key is None:
            nodes = list(graph.roots)
        elif children:
            nodes = list(graph.children(key))
        else:
            nodes = [graph.get(key)]
        # A decision's deadline is its "no" steps' due time: their timings count too, whether
        # the decision is a first step, a child, or a jump's target.
        for node in list(nodes):
            if node.kind is Kind.DECISION:
                nodes.extend(graph.children(node.key, NO))
        needed = [n.timing for n in nodes if n.timing.contact_specific]
        if not needed or not contact_ids:
            return {}
        fields = {t.field for t in needed if t.field}
        found: dict[int, ContactTime] = {}
        for start in range(0, len(contact_ids), 2000):
            part = list(contact_ids[start : start + 2000])
            rows = await self.session.execute(
                select(Contact.id, Contact.timezone, Contact.fields).where(Contact.id.in_(part))
            )
            for cid, tz, values in rows.all():
                found[cid] = ContactTime(
                    timezone=tz,
                    fields={f: _as_date(values.get(f)) for f in fields if values},
                )
        return found


def _as_date(value: Any) -> date | datetime | None:
    if not isinstance(value, str):
        return None
    try:
        if "T" in value:
            return datetime.fromisoformat(value)
        return date.fromisoformat(value)
    except ValueError:
        return None
