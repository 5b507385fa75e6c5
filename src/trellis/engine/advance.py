"""What follows a step, for a batch of contacts: the pure core of execution.

Given the outcome of one event for many contacts (which path each took), ``plan_children``
says which child events run now, which are scheduled for when, and which decisions start
waiting, with the moment their "no" path falls due. The runtime persists and performs it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from trellis.engine.graph import NO, Graph, Kind, Node, TypeInfo
from trellis.engine.timing import due_at, earliest


@dataclass(frozen=True)
class ContactTime:
    """What timing needs to know about a contact."""

    timezone: str | None = None
    fields: Mapping[str, date | datetime | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Scheduled:
    node: str
    contact_id: int
    due_at: datetime
    # The instant the step's timing counts from, when it is not the moment of planning (the
    # reach of a decision whose wait ran out). Stored as the step's reached_at, so that the
    # check made when the step is claimed counts from the same instant and does not add the
    # delay a second time.
    anchor: datetime | None = None


@dataclass(frozen=True)
class Waiting:
    node: str
    contact_id: int
    # When the "no" path falls due; None when the decision has no "no" path.
    deadline: datetime | None
    # As for Scheduled: the instant the deadline counts from, when it is not now.
    anchor: datetime | None = None


@dataclass(frozen=True)
class Unschedulable:
    node: str
    contact_id: int
    reason: str


@dataclass
class Plan:
    run_now: dict[str, list[int]] = field(default_factory=dict)
    scheduled: list[Scheduled] = field(default_factory=list)
    waiting: list[Waiting] = field(default_factory=list)
    unschedulable: list[Unschedulable] = field(default_factory=list)

    def merge(self, other: Plan) -> None:
        for key, ids in other.run_now.items():
            self.run_now.setdefault(key, []).extend(ids)
        self.scheduled.extend(other.scheduled)
        self.waiting.extend(other.waiting)
        self.unschedulable.extend(other.unschedulable)


def decision_deadline(
    graph: Graph,
    decision: Node,
    *,
    base: datetime,
    now: datetime,
    contact: ContactTime,
    default_timezone: str,
) -> datetime | None:
    """When a waiting decision gives up and takes its "no" path: the earliest due time of its
    no-path children, counted from when the decision was reached."""
    return earliest(
        _due(child, base=base, now=base, contact=contact, default_timezone=default_timezone)
        for child in graph.children(decision.key, NO)
    )


def step_due(
    node: Node, *, base: datetime, now: datetime, contact: ContactTime, default_timezone: str
) -> datetime | None:
    """When a step is due for a contact, counting from ``base`` (when it was reached)."""
    return _due(node, base=base, now=now, contact=contact, default_timezone=default_timezone)


def _due(
    node: Node, *, base: datetime, now: datetime, contact: ContactTime, default_timezone: str
) -> datetime | None:
    value = contact.fields.get(node.timing.field) if node.timing.field else None
    return due_at(
        node.timing,
        base=base,
        now=now,
        timezone=contact.timezone,
        default_timezone=default_timezone,
        field_value=value,
    )


def plan_children(
    graph: Graph,
    types: Mapping[str, TypeInfo],
    node_key: str | None,
    paths: Mapping[int, str | None],
    *,
    now: datetime,
    base: Mapping[int, datetime] | None = None,
    contacts: Mapping[int, ContactTime] | None = None,
    default_timezone: str = "UTC",
) -> Plan:
    """Plan the children of ``node_key`` (None: the campaign's first steps) for each contact
    along the path it took (None after an action: every child)."""
    plan = Plan()
    contacts = contacts or {}
    # Contacts that took the same path share their children; only contact-specific timings
    # (and per-contact bases) need work per contact.
    by_path: dict[str | None, list[int]] = {}
    for contact_id, path in paths.items():
        by_path.setdefault(path, []).append(contact_id)
    for path, ids in by_path.items():
        if node_key is None:
            children = graph.roots
        elif path is not None:
            children = graph.children(node_key, path)
        else:
            children = [c for c in graph.children(node_key) if c.path is None]
        for child in children:
            shared = (
                base is None
                and child.kind is not Kind.DECISION
                and not child.timing.contact_specific
            )
            if shared:
                _plan_group(plan, types, child, ids, now=now, default_timezone=default_timezone)
                continue
            for contact_id in ids:
                _plan_nodes(
                    plan,
                    graph,
                    types,
                    [child],
                    contact_id,
                    contact=contacts.get(contact_id, ContactTime()),
                    start=base.get(contact_id, now) if base else now,
                    now=now,
                    default_timezone=default_timezone,
                )
    return plan


def _plan_group(
    plan: Plan,
    types: Mapping[str, TypeInfo],
    child: Node,
    ids: Sequence[int],
    *,
    now: datetime,
    default_timezone: str,
) -> None:
    """A child whose due time is the same for every contact: computed once."""
    due = _due(child, base=now, now=now, contact=ContactTime(), default_timezone=default_timezone)
    if (
        due is None
    ):  # pragma: no cover - only relative timings have no date, and they are per contact
        return
    if due <= now and not types[child.key].external:
        plan.run_now.setdefault(child.key, []).extend(ids)
    else:
        at = max(due, now)
        plan.scheduled.extend(Scheduled(child.key, contact_id, at) for contact_id in ids)


def plan_entry(
    graph: Graph,
    types: Mapping[str, TypeInfo],
    node_key: str,
    contact_ids: Sequence[int],
    *,
    now: datetime,
    contacts: Mapping[int, ContactTime] | None = None,
    default_timezone: str = "UTC",
) -> Plan:
    """Plan one step directly, as a jump or a redirect does, counting its timing from now."""
    plan = Plan()
    node = graph.get(node_key)
    for contact_id in contact_ids:
        _plan_nodes(
            plan,
            graph,
            types,
            [node],
            contact_id,
            contact=(contacts or {}).get(contact_id, ContactTime()),
            start=now,
            now=now,
            default_timezone=default_timezone,
        )
    return plan


def _plan_nodes(
    plan: Plan,
    graph: Graph,
    types: Mapping[str, TypeInfo],
    nodes: Sequence[Node],
    contact_id: int,
    *,
    contact: ContactTime,
    start: datetime,
    now: datetime,
    default_timezone: str,
) -> None:
    for child in nodes:
        info = types[child.key]
        if child.kind is Kind.DECISION:
            deadline = decision_deadline(
                graph,
                child,
                base=start,
                now=now,
                contact=contact,
                default_timezone=default_timezone,
            )
            plan.waiting.append(Waiting(child.key, contact_id, deadline, _anchor(start, now)))
            continue
        due = _due(child, base=start, now=now, contact=contact, default_timezone=default_timezone)
        if due is None:
            plan.unschedulable.append(
                Unschedulable(child.key, contact_id, f"No date in {child.timing.field}.")
            )
        elif due <= now and not child.timing.contact_specific and not info.external:
            plan.run_now.setdefault(child.key, []).append(contact_id)
        else:
            plan.scheduled.append(
                Scheduled(child.key, contact_id, max(due, now), _anchor(start, now))
            )


def _anchor(start: datetime, now: datetime) -> datetime | None:
    return start if start != now else None


def run_order(graph: Graph, types: Mapping[str, TypeInfo], keys: Sequence[str]) -> list[str]:
    """Siblings run conditions first, then actions, jumps last (as Mautic does), so that a jump
    never overtakes the steps beside it."""

    def rank(key: str) -> tuple[int, str]:
        info = types[key]
        if info.jumps:
            return (2, key)
        return (0 if info.kind is Kind.CONDITION else 1, key)

    return sorted(keys, key=rank)


def split_branch(contact_id: int, node_key: str, weights: Sequence[int]) -> int:
    """A random split's branch for a contact: sticky (the same every time, in every process)
    and spread by weight."""
    total = sum(weights)
    if total <= 0:
        return 0
    digest = hashlib.sha256(f"{node_key}:{contact_id}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") % total
    for index, weight in enumerate(weights):
        if point < weight:
            return index
        point -= weight
    return len(weights) - 1  # pragma: no cover - the loop always returns
