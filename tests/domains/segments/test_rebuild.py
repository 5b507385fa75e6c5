"""The set-based rebuild: joins, leaves, sticky manual changes, the log, counts, ordering."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from tests.domains.segments.conftest import NOW, SYSTEM, World, cond
from trellis.clock import FixedClock
from trellis.db.models import Contact, Segment
from trellis.domains.segments.schemas import SegmentCreate, SegmentUpdate
from trellis.domains.segments.service import segment_service
from trellis.domains.segments.tasks import (
    _CURSORS,
    rebuild_changed_contacts,
    rebuild_segments,
)
from trellis.errors import ValidationFailed
from trellis.jobs.registry import JobContext


async def set_points(world: World, contact_id: int, points: int, *, at: Any = NOW) -> None:
    async with world.database.unit_of_work() as session:
        await session.execute(
            update(Contact).where(Contact.id == contact_id).values(points=points, updated_at=at)
        )


async def rebuild(world: World, *segment_ids: int, batch_size: int = 100_000) -> Any:
    results = await rebuild_segments(
        world.database, now=NOW, segment_ids=list(segment_ids) or None, batch_size=batch_size
    )
    return {r.segment_id: r for r in results}


async def test_join_leave_and_log(world: World) -> None:
    a = await world.contact(email="a@example.com", points=10)
    b = await world.contact(email="b@example.com", points=1)
    c = await world.contact(email="c@example.com", points=20)
    hot = await world.segment("Hot", cond("points", ">=", 10))

    first = (await rebuild(world, hot))[hot]
    assert (first.joined, first.left, first.total) == (2, 0, 2)
    assert await world.members(hot) == {a, c}
    assert await world.log(hot) == [(a, "joined", False), (c, "joined", False)]

    again = (await rebuild(world, hot))[hot]
    assert (again.joined, again.left, again.total) == (0, 0, 2)
    assert len(await world.log(hot)) == 2

    await set_points(world, a, 0)
    await set_points(world, b, 99)
    third = (await rebuild(world, hot))[hot]
    assert (third.joined, third.left, third.total) == (1, 1, 2)
    assert await world.members(hot) == {b, c}
    # A slice's leaves are applied (and logged) before its joins.
    assert (await world.log(hot))[2:] == [(a, "left", False), (b, "joined", False)]
    async with world.database.unit_of_work(read_only=True) as session:
        segment = await session.get(Segment, hot)
        assert segment is not None
        assert segment.member_count == 2
        assert segment.last_built_at == NOW


async def test_small_batches_give_the_same_result(world: World) -> None:
    ids = [await world.contact(email=f"p{i}@example.com", points=i) for i in range(25)]
    even = await world.segment("Big", cond("points", ">=", 5))
    result = (await rebuild(world, even, batch_size=4))[even]
    assert result.joined == 20
    assert await world.members(even) == set(ids[5:])


async def test_manual_add_sticks_and_manual_remove_sticks(world: World) -> None:
    a = await world.contact(email="a@example.com", points=10)
    b = await world.contact(email="b@example.com", points=1)
    c = await world.contact(email="c@example.com", points=30)
    hot = await world.segment("Hot", cond("points", ">=", 10))
    await rebuild(world, hot)

    async with world.database.unit_of_work() as session:
        added = await segment_service.add_members(
            session, hot, contact_ids=[b, a, 999_999], actor=SYSTEM, now=NOW
        )
        assert (added.changed, added.unchanged, added.not_found) == (1, 1, [999_999])
        removed = await segment_service.remove_members(
            session, hot, contact_ids=[c], actor=SYSTEM, now=NOW
        )
        assert (removed.changed, removed.member_count) == (1, 2)
    assert await world.members(hot) == {a, b}
    assert (await world.log(hot))[-2:] == [(b, "joined", True), (c, "left", True)]

    # b does not match but was added by hand; c matches but was removed by hand.
    await set_points(world, a, 0)  # a was a member by rule *and* by hand: stays
    result = (await rebuild(world, hot))[hot]
    assert (result.joined, result.left) == (0, 0)
    assert await world.members(hot) == {a, b}

    # Removing by hand a contact who is not a member keeps them out too.
    d = await world.contact(email="d@example.com", points=50)
    async with world.database.unit_of_work() as session:
        await segment_service.remove_members(session, hot, contact_ids=[d], actor=SYSTEM, now=NOW)
    await rebuild(world, hot)
    assert d not in await world.members(hot)

    # Adding back by hand lifts the removal.
    async with world.database.unit_of_work() as session:
        back = await segment_service.add_members(
            session, hot, contact_ids=[c], actor=SYSTEM, now=NOW
        )
        assert back.changed == 1
    assert await world.members(hot) == {a, b, c}


async def test_segments_rebuild_in_dependency_order(world: World) -> None:
    a = await world.contact(email="a@example.com", points=10, tags=["vip"])
    b = await world.contact(email="b@example.com", points=10)
    await world.contact(email="c@example.com", points=0, tags=["vip"])
    # Created first, but depends on the later ones.
    hot = await world.segment("Hot", cond("points", ">=", 10))
    vips = await world.segment("VIPs", cond("tags", "has_any", ["vip"]))
    async with world.database.unit_of_work() as session:
        both = await segment_service.create(
            session,
            data=SegmentCreate(
                name="Hot VIPs",
                filters={
                    "match": "all",
                    "conditions": [
                        {"type": "segment", "operator": "in", "value": [hot]},
                        {"type": "segment", "operator": "in", "value": [vips]},
                    ],
                },
            ),
            actor=SYSTEM,
            now=NOW,
        )
    results = await rebuild_segments(world.database, now=NOW)
    order = [r.segment_id for r in results]
    assert order.index(both.id) > order.index(hot)
    assert order.index(both.id) > order.index(vips)
    assert await world.members(both.id) == {a}
    assert b in await world.members(hot)


async def test_cycles_are_refused(world: World) -> None:
    one = await world.segment("One", cond("points", ">", 0))
    two = await world.segment("Two", cond("segment", "in", [one]))
    three = await world.segment("Three", cond("segment", "not_in", [two]))
    other = await world.segment("Other", cond("points", "<", 0))
    for target, refs in ((one, [three]), (one, [one]), (two, [other, three])):
        async with world.database.unit_of_work() as session:
            with pytest.raises(ValidationFailed) as refused:
                await segment_service.update(
                    session,
                    target,
                    data=SegmentUpdate(
                        filters={
                            "match": "any",
                            "conditions": [
                                cond("points", ">", 1),
                                {"type": "segment", "operator": "in", "value": refs},
                            ],
                        }
                    ),
                    actor=SYSTEM,
                    now=NOW,
                    expected_version=None,
                )
        pointers = [e.pointer for e in refused.value.errors]
        assert pointers[-1] == f"/filters/conditions/1/value/{len(refs) - 1}"


async def test_invalid_stored_filters_fail_that_segment_only(world: World) -> None:
    await world.contact(email="a@example.com", points=10)
    good = await world.segment("Good", cond("points", ">", 1))
    bad = await world.segment("Bad", cond("points", ">", 1))
    async with world.database.unit_of_work() as session:
        await session.execute(
            update(Segment)
            .where(Segment.id == bad)
            .values(filters={"match": "all", "conditions": [cond("gone", "=", 1)]})
        )
    results = await rebuild(world)
    assert results[good].error is None
    assert results[good].joined == 1
    assert results[bad].error is not None
    assert "unknown filter type" in results[bad].error.lower()


async def test_incremental_pass_picks_up_changed_contacts(world: World) -> None:
    a = await world.contact(email="a@example.com", points=0)
    b = await world.contact(email="b@example.com", points=0)
    hot = await world.segment("Hot", cond("points", ">=", 10))
    await rebuild(world, hot)
    clock = FixedClock(NOW + timedelta(minutes=5))
    ctx = JobContext(database=world.database, clock=clock)
    try:
        await rebuild_changed_contacts(ctx, {})  # nothing changed since a minute ago
        assert await world.members(hot) == set()
        await set_points(world, a, 50, at=clock.now())
        await rebuild_changed_contacts(ctx, {})
        assert await world.members(hot) == {a}
        # Only changed contacts are looked at: b matches now but was not touched.
        async with world.database.unit_of_work() as session:
            await session.execute(update(Contact).where(Contact.id == b).values(points=50))
        clock.advance(timedelta(seconds=1))
        await set_points(world, a, 0, at=clock.now())
        await rebuild_changed_contacts(ctx, {})
        assert await world.members(hot) == set()
        async with world.database.unit_of_work(read_only=True) as session:
            segment = await session.get(Segment, hot)
            assert segment is not None
            assert segment.member_count == 0
    finally:
        _CURSORS.pop(id(ctx), None)


async def test_a_contact_stamped_in_the_future_does_not_hide_later_changes(world: World) -> None:
    # A CLI run with `--now` a week ahead stamps the contacts it touches a week ahead; the
    # server's incremental pass must still see the changes made after it, in real time.
    a = await world.contact(email="a@example.com", points=0)
    b = await world.contact(email="b@example.com", points=0)
    hot = await world.segment("Hot", cond("points", ">=", 10))
    await rebuild(world, hot)
    clock = FixedClock(NOW + timedelta(minutes=5))
    ctx = JobContext(database=world.database, clock=clock)
    try:
        await set_points(world, a, 50, at=clock.now() + timedelta(days=7))
        await rebuild_changed_contacts(ctx, {})
        assert await world.members(hot) == {a}
        clock.advance(timedelta(seconds=1))
        await set_points(world, b, 50, at=clock.now())
        await rebuild_changed_contacts(ctx, {})
        assert await world.members(hot) == {a, b}
    finally:
        _CURSORS.pop(id(ctx), None)


async def test_unpublished_segments_are_skipped_by_the_full_pass(world: World) -> None:
    await world.contact(email="a@example.com", points=10)
    hot = await world.segment("Hot", cond("points", ">=", 10))
    async with world.database.unit_of_work() as session:
        await session.execute(update(Segment).where(Segment.id == hot).values(is_published=False))
    assert await rebuild(world) == {}
    assert (await rebuild(world, hot))[hot].joined == 1
