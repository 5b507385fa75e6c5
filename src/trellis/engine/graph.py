"""The campaign graph and the rules for connecting it.

A campaign is a forest of events hanging off its sources. Each event has at most one parent,
and the edge to it carries the path: ``yes`` / ``no`` under a condition or decision, a branch
key (``b0``, ``b1``, ...) under a random split, nothing under an action. Loops are made with the
jump-to-event action, never with edges, so the graph itself is acyclic.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from trellis.engine.timing import Mode, Timing


class Kind(StrEnum):
    ACTION = "action"
    CONDITION = "condition"
    DECISION = "decision"


YES = "yes"
NO = "no"


@dataclass(frozen=True)
class TypeInfo:
    """What the graph rules need to know about an event type."""

    kind: Kind
    leaf: bool = False
    # The parent must be one of these types (email.open under email.send).
    parent_types: frozenset[str] = frozenset()
    # Number of outgoing branches for splits; 0 means yes/no (or none for actions).
    branches: int = 0
    jumps: bool = False
    # Actions with outside effects (mail, webhooks) always run in their own transaction.
    external: bool = False


@dataclass(frozen=True)
class Node:
    key: str
    type: str
    kind: Kind
    parent: str | None = None
    path: str | None = None
    timing: Timing = field(default_factory=Timing)
    config: Mapping[str, Any] = field(default_factory=dict)
    name: str = ""


@dataclass(frozen=True)
class Problem:
    """A broken rule, located by event key and field for the API's pointers."""

    event: str | None
    field: str
    detail: str
    code: str = "invalid_graph"


@dataclass
class Graph:
    nodes: dict[str, Node]

    def __post_init__(self) -> None:
        self._children: dict[str | None, list[Node]] = {}
        for node in self.nodes.values():
            self._children.setdefault(node.parent, []).append(node)

    @property
    def roots(self) -> list[Node]:
        return list(self._children.get(None, []))

    def children(self, key: str, path: str | None = None) -> list[Node]:
        found = self._children.get(key, [])
        if path is None:
            return list(found)
        return [n for n in found if n.path == path]

    def get(self, key: str) -> Node:
        return self.nodes[key]

    def ancestors(self, key: str) -> Iterable[Node]:
        seen: set[str] = set()
        node = self.nodes.get(key)
        while node is not None and node.parent is not None and node.parent not in seen:
            seen.add(node.parent)
            parent = self.nodes.get(node.parent)
            if parent is None:
                return
            yield parent
            node = parent


def branch_paths(info: TypeInfo) -> list[str]:
    if info.branches:
        return [f"b{i}" for i in range(info.branches)]
    if info.kind in (Kind.CONDITION, Kind.DECISION):
        return [YES, NO]
    return []


def validate(
    graph: Graph, types: Mapping[str, TypeInfo], *, jump_targets: Mapping[str, str | None]
) -> list[Problem]:
    """Check the connection rules. ``types`` holds each node's type info (with the branch count
    of splits already resolved from their config); ``jump_targets`` maps each jump event to the
    key of the event it jumps to."""
    problems: list[Problem] = []
    for node in graph.nodes.values():
        info = types.get(node.key)
        if info is None:
            problems.append(
                Problem(node.key, "type", f"Unknown event type {node.type!r}.", "unknown_type")
            )
            continue
        if node.parent is None:
            if node.path is not None:
                problems.append(Problem(node.key, "path", "A first step has no path."))
            if info.parent_types:
                problems.append(
                    Problem(
                        node.key,
                        "parent",
                        f"{node.type} must follow one of: {', '.join(sorted(info.parent_types))}.",
                        "wrong_parent",
                    )
                )
            continue
        parent = graph.nodes.get(node.parent)
        if parent is None:
            problems.append(
                Problem(
                    node.key,
                    "parent",
                    "The step is connected to a step that does not exist.",
                    "orphan",
                )
            )
            continue
        parent_info = types.get(parent.key)
        if parent_info is None:
            continue
        problems.extend(_edge_problems(node, info, parent, parent_info))
    problems.extend(_cycle_problems(graph))
    for key, target in jump_targets.items():
        if target is None or target not in graph.nodes:
            problems.append(
                Problem(
                    key,
                    "config/target",
                    "Choose a step of this campaign to jump to.",
                    "jump_target",
                )
            )
        elif target == key:
            problems.append(
                Problem(key, "config/target", "A step cannot jump to itself.", "jump_target")
            )
    return problems


def _edge_problems(
    node: Node, info: TypeInfo, parent: Node, parent_info: TypeInfo
) -> list[Problem]:
    problems = []
    if parent_info.leaf:
        problems.append(
            Problem(
                node.key,
                "parent",
                f"Nothing may follow {parent.type}: it ends the journey.",
                "leaf_parent",
            )
        )
    paths = branch_paths(parent_info)
    if paths and node.path not in paths:
        problems.append(
            Problem(
                node.key,
                "path",
                f"Connect to one of the outputs {', '.join(paths)} of the step before.",
                "wrong_path",
            )
        )
    if not paths and node.path is not None:
        problems.append(Problem(node.key, "path", "An action has a single output; drop the path."))
    if parent_info.kind is Kind.DECISION and info.kind is Kind.DECISION:
        problems.append(
            Problem(
                node.key,
                "parent",
                "A decision cannot follow a decision directly; put an action or a "
                "condition between them.",
                "decision_after_decision",
            )
        )
    if info.parent_types and parent.type not in info.parent_types:
        problems.append(
            Problem(
                node.key,
                "parent",
                f"{node.type} must follow one of: {', '.join(sorted(info.parent_types))}.",
                "wrong_parent",
            )
        )
    if parent_info.kind is Kind.DECISION and node.path == NO and node.timing.is_immediate:
        problems.append(
            Problem(
                node.key,
                "timing",
                "A step on a decision's no path needs a delay: it is the time the "
                "contact has to act.",
                "no_path_needs_delay",
            )
        )
    if info.kind is Kind.DECISION and node.timing.mode is not Mode.IMMEDIATE:
        problems.append(
            Problem(
                node.key,
                "timing",
                "A decision waits for the contact; it has no timing of its own.",
                "decision_timing",
            )
        )
    return problems


def _cycle_problems(graph: Graph) -> list[Problem]:
    problems = []
    for key in graph.nodes:
        seen = {key}
        node = graph.nodes[key]
        while node.parent is not None and node.parent in graph.nodes:
            if node.parent in seen:
                problems.append(
                    Problem(
                        key, "parent", "The steps form a loop; use jump to step for loops.", "cycle"
                    )
                )
                break
            seen.add(node.parent)
            node = graph.nodes[node.parent]
    return problems


def topological(graph: Graph) -> Sequence[Node]:
    """Nodes parents-first, for stable ordering in documents and layouts."""
    ordered: list[Node] = []
    frontier = sorted(graph.roots, key=lambda n: n.key)
    while frontier:
        node = frontier.pop(0)
        ordered.append(node)
        frontier.extend(sorted(graph.children(node.key), key=lambda n: (n.path or "", n.key)))
    return ordered
