from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from trellis.engine.advance import ContactTime, plan_children, run_order, split_branch
from trellis.engine.graph import NO, YES, Graph, Kind, Node, TypeInfo, validate
from trellis.engine.timing import Mode, Timing, Unit

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
ACTION = TypeInfo(Kind.ACTION)
CONDITION = TypeInfo(Kind.CONDITION)
DECISION = TypeInfo(Kind.DECISION)


def node(
    key: str,
    kind: Kind = Kind.ACTION,
    parent: str | None = None,
    path: str | None = None,
    timing: Timing | None = None,
    type_: str = "t",
) -> Node:
    return Node(key=key, type=type_, kind=kind, parent=parent, path=path, timing=timing or Timing())


def later(days: int) -> Timing:
    return Timing(Mode.INTERVAL, days, Unit.DAY)


def test_plan_runs_immediate_children_and_schedules_delayed_ones() -> None:
    graph = Graph(
        {"a": node("a"), "b": node("b", parent="a"), "c": node("c", parent="a", timing=later(2))}
    )
    types = {k: ACTION for k in graph.nodes}
    plan = plan_children(graph, types, "a", {1: None, 2: None}, now=NOW)
    assert plan.run_now == {"b": [1, 2]}
    assert [(s.node, s.contact_id, s.due_at) for s in plan.scheduled] == [
        ("c", 1, NOW + timedelta(days=2)),
        ("c", 2, NOW + timedelta(days=2)),
    ]


def test_condition_paths_and_decision_deadline() -> None:
    graph = Graph(
        {
            "cond": node("cond", Kind.CONDITION),
            "yes": node("yes", parent="cond", path=YES),
            "dec": node("dec", Kind.DECISION, parent="cond", path=NO),
            "dec_yes": node("dec_yes", parent="dec", path=YES),
            "dec_no": node("dec_no", parent="dec", path=NO, timing=later(3)),
            "dec_no2": node("dec_no2", parent="dec", path=NO, timing=later(5)),
        }
    )
    types = {
        "cond": CONDITION,
        "dec": DECISION,
        **{k: ACTION for k in ("yes", "dec_yes", "dec_no", "dec_no2")},
    }
    plan = plan_children(graph, types, "cond", {1: YES, 2: NO}, now=NOW)
    assert plan.run_now == {"yes": [1]}
    assert [(w.node, w.contact_id, w.deadline) for w in plan.waiting] == [
        ("dec", 2, NOW + timedelta(days=3))
    ]


def test_external_actions_are_always_scheduled() -> None:
    graph = Graph({"a": node("a"), "hook": node("hook", parent="a")})
    types = {"a": ACTION, "hook": TypeInfo(Kind.ACTION, external=True)}
    plan = plan_children(graph, types, "a", {7: None}, now=NOW)
    assert plan.run_now == {}
    assert [(s.node, s.due_at) for s in plan.scheduled] == [("hook", NOW)]


def test_relative_without_a_date_is_unschedulable() -> None:
    graph = Graph({"r": node("r", timing=Timing(Mode.RELATIVE, field="renewal"))})
    plan = plan_children(
        graph,
        {"r": ACTION},
        None,
        {1: None},
        now=NOW,
        contacts={1: ContactTime(fields={"renewal": None})},
    )
    assert [(u.node, u.contact_id) for u in plan.unschedulable] == [("r", 1)]


def test_run_order_puts_conditions_first_and_jumps_last() -> None:
    graph = Graph({k: node(k) for k in ("jump", "act", "cond")})
    types = {"jump": TypeInfo(Kind.ACTION, jumps=True), "act": ACTION, "cond": CONDITION}
    assert run_order(graph, types, ["jump", "act", "cond"]) == ["cond", "act", "jump"]


@pytest.mark.parametrize(
    ("nodes", "types", "expected"),
    [
        (
            {"d1": node("d1", Kind.DECISION), "d2": node("d2", Kind.DECISION, "d1", YES)},
            {"d1": DECISION, "d2": DECISION},
            {("d2", "decision_after_decision")},
        ),
        (
            {"x": node("x"), "y": node("y", parent="x")},
            {"x": TypeInfo(Kind.ACTION, leaf=True), "y": ACTION},
            {("y", "leaf_parent")},
        ),
        (
            {"d": node("d", Kind.DECISION), "n": node("n", parent="d", path=NO)},
            {"d": DECISION, "n": ACTION},
            {("n", "no_path_needs_delay")},
        ),
        (
            {"c": node("c", Kind.CONDITION), "k": node("k", parent="c")},
            {"c": CONDITION, "k": ACTION},
            {("k", "wrong_path")},
        ),
        (
            {"a": node("a"), "k": node("k", parent="a", path=YES)},
            {"a": ACTION, "k": ACTION},
            {("k", "invalid_graph")},
        ),
        ({"k": node("k", parent="missing")}, {"k": ACTION}, {("k", "orphan")}),
        (
            {"a": node("a", parent="b"), "b": node("b", parent="a")},
            {"a": ACTION, "b": ACTION},
            {("a", "cycle"), ("b", "cycle")},
        ),
        (
            {"s": node("s", Kind.CONDITION), "b": node("b", parent="s", path="b1")},
            {"s": TypeInfo(Kind.CONDITION, branches=2), "b": ACTION},
            set(),
        ),
        (
            {"o": node("o", type_="email.open")},
            {"o": TypeInfo(Kind.DECISION, parent_types=frozenset({"email.send"}))},
            {("o", "wrong_parent")},
        ),
    ],
)
def test_connection_rules(
    nodes: dict[str, Node], types: dict[str, TypeInfo], expected: set[tuple[str, str]]
) -> None:
    problems = validate(Graph(nodes), types, jump_targets={})
    assert {(p.event, p.code) for p in problems} == expected


def test_jump_targets_must_exist() -> None:
    graph = Graph({"j": node("j")})
    problems = validate(
        graph, {"j": TypeInfo(Kind.ACTION, leaf=True, jumps=True)}, jump_targets={"j": "nowhere"}
    )
    assert [(p.event, p.code) for p in problems] == [("j", "jump_target")]


def test_random_split_is_sticky_and_weighted() -> None:
    assert split_branch(42, "split", [50, 50]) == split_branch(42, "split", [50, 50])
    counts = Counter(split_branch(c, "split", [80, 20]) for c in range(20_000))
    assert 0.77 < counts[0] / 20_000 < 0.83
    assert split_branch(1, "split", [0, 5]) == 1
