"""The group-commit primitive behind the track API, form posts and the hit queues."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from trellis.runtime import group_commit
from trellis.runtime.group_commit import BufferFull, GroupCommit


class Recorder:
    """A write function that records each batch; items named in ``bad`` fail their batch."""

    def __init__(self, *, bad: Sequence[str] = (), down: int = 0) -> None:
        self.batches: list[list[str]] = []
        self.bad = set(bad)
        self.down = down  # the first N writes fail, as if the database were away

    async def write(self, batch: Sequence[str]) -> list[str | BaseException]:
        await asyncio.sleep(0)
        if self.down:
            self.down -= 1
            raise ConnectionError("database away")
        if self.bad & set(batch):
            raise ValueError(f"bad item in {list(batch)}")
        self.batches.append(list(batch))
        return [item.upper() for item in batch]


async def test_a_lone_item_is_written_at_once_and_concurrent_ones_together() -> None:
    recorder = Recorder()
    commit: GroupCommit[str, str] = GroupCommit(recorder.write, name="t")
    assert await commit.submit("a") == "A"
    assert recorder.batches == [["a"]]
    results = await asyncio.gather(*(commit.submit(x) for x in "bcd"))
    assert results == ["B", "C", "D"]
    assert recorder.batches == [["a"], ["b", "c", "d"]]


async def test_a_steady_load_lingers_for_the_callers_just_answered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # However slow the machine, the batches below count as recent.
    monkeypatch.setattr(group_commit, "RECENT_SECONDS", 3600.0)
    recorder = Recorder()
    commit: GroupCommit[str, str] = GroupCommit(recorder.write, name="t", linger_s=5.0)
    await asyncio.gather(*(commit.submit(x) for x in "abc"))
    assert recorder.batches == [["a", "b", "c"]]

    # Answered, the three post again, one a little ahead of the others: the writer waits for
    # the callers it knows are posting instead of writing the first one alone.
    async def later(item: str) -> str:
        await asyncio.sleep(0)
        return await commit.submit(item)

    assert await asyncio.gather(commit.submit("d"), later("e"), later("f")) == ["D", "E", "F"]
    assert recorder.batches == [["a", "b", "c"], ["d", "e", "f"]]


async def test_one_bad_item_fails_alone() -> None:
    recorder = Recorder(bad=["b"])
    commit: GroupCommit[str, str] = GroupCommit(recorder.write, name="t")
    outcomes = await asyncio.gather(*(commit.submit(x) for x in "abc"), return_exceptions=True)
    assert outcomes[0] == "A"
    assert isinstance(outcomes[1], ValueError)
    assert outcomes[2] == "C"
    assert recorder.batches == [["a"], ["c"]]


async def test_per_item_outcomes_settle_each_caller() -> None:
    async def write(batch: Sequence[str]) -> list[str | BaseException]:
        return [PermissionError(x) if x == "no" else x for x in batch]

    commit: GroupCommit[str, str] = GroupCommit(write, name="t")
    ok, refused = await asyncio.gather(
        commit.submit("yes"), commit.submit("no"), return_exceptions=True
    )
    assert ok == "yes"
    assert isinstance(refused, PermissionError)


async def test_added_items_survive_a_database_outage_in_order() -> None:
    recorder = Recorder(down=2)
    commit: GroupCommit[str, str] = GroupCommit(recorder.write, name="t", max_batch=2)
    for item in "abcde":
        commit.add(item)
    await commit.stop()
    assert recorder.batches == [["a", "b"], ["c", "d"], ["e"]]
    assert commit.failures >= 1
    assert len(commit) == 0


async def test_added_items_are_bounded() -> None:
    recorder = Recorder(down=100)
    commit: GroupCommit[str, str] = GroupCommit(
        recorder.write, name="t", interval_s=60, max_queued=3
    )
    for item in "abc":
        commit.add(item)
    with pytest.raises(BufferFull):
        commit.add("d")
    assert len(commit) == 3


async def test_an_interval_lets_a_batch_fill() -> None:
    recorder = Recorder()
    commit: GroupCommit[str, str] = GroupCommit(
        recorder.write, name="t", interval_s=60, max_batch=3
    )
    commit.add("a")
    commit.add("b")
    await asyncio.sleep(0.05)
    assert recorder.batches == []  # waiting for the interval or a full batch
    commit.add("c")
    for _ in range(100):
        if recorder.batches:
            break
        await asyncio.sleep(0.01)
    assert recorder.batches == [["a", "b", "c"]]
