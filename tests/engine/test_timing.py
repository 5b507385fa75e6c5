"""Schedule arithmetic: examples for each rule, and properties that must hold for any input."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trellis.engine.timing import Mode, Timing, Unit, add_interval, add_months, describe, due_at

MONDAY_9 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("timing", "timezone", "expected"),
    [
        (Timing(), None, MONDAY_9),
        (Timing(Mode.INTERVAL, 3, Unit.DAY), None, MONDAY_9 + timedelta(days=3)),
        (Timing(Mode.INTERVAL, 90, Unit.MINUTE), None, MONDAY_9 + timedelta(minutes=90)),
        (Timing(Mode.INTERVAL, 1, Unit.MONTH), None, datetime(2026, 4, 2, 9, tzinfo=UTC)),
        # The hour is later that day: same day.
        (
            Timing(Mode.INTERVAL, 1, Unit.DAY, at_hour=time(14)),
            "UTC",
            datetime(2026, 3, 3, 14, tzinfo=UTC),
        ),
        # The hour has passed that day: the next day (documented rule).
        (
            Timing(Mode.INTERVAL, 1, Unit.DAY, at_hour=time(8)),
            "UTC",
            datetime(2026, 3, 4, 8, tzinfo=UTC),
        ),
        # In the contact's timezone: 09:00 UTC is 10:00 in Paris; 11:00 Paris = 10:00 UTC.
        (
            Timing(Mode.INTERVAL, 0, Unit.DAY, at_hour=time(11)),
            "Europe/Paris",
            datetime(2026, 3, 2, 10, tzinfo=UTC),
        ),
        # Window: before it -> its start; after it -> next day's start.
        (
            Timing(Mode.INTERVAL, 0, Unit.DAY, window_start=time(10), window_end=time(17)),
            "UTC",
            datetime(2026, 3, 2, 10, tzinfo=UTC),
        ),
        (
            Timing(Mode.INTERVAL, 10, Unit.HOUR, window_start=time(10), window_end=time(17)),
            "UTC",
            datetime(2026, 3, 3, 10, tzinfo=UTC),
        ),
        # Weekdays: Monday + 5 days is Saturday; only weekdays -> Monday, same time.
        (
            Timing(Mode.INTERVAL, 5, Unit.DAY, weekdays=frozenset(range(5))),
            "UTC",
            datetime(2026, 3, 9, 9, tzinfo=UTC),
        ),
        (
            Timing(Mode.DATE, at=datetime(2026, 6, 1, 12, tzinfo=UTC)),
            None,
            datetime(2026, 6, 1, 12, tzinfo=UTC),
        ),
        # A date already past means now.
        (Timing(Mode.DATE, at=datetime(2025, 6, 1, 12, tzinfo=UTC)), None, MONDAY_9),
    ],
)
def test_examples(timing: Timing, timezone: str | None, expected: datetime) -> None:
    assert due_at(timing, base=MONDAY_9, now=MONDAY_9, timezone=timezone) == expected


def test_relative_to_a_contact_date() -> None:
    timing = Timing(Mode.RELATIVE, field="renewal_date", offset_days=-3)
    due = due_at(
        timing,
        base=MONDAY_9,
        now=MONDAY_9,
        timezone="America/New_York",
        field_value=date(2026, 4, 10),
    )
    # 3 days before at 09:00 New York (EDT, UTC-4).
    assert due == datetime(2026, 4, 7, 13, tzinfo=UTC)
    assert due_at(timing, base=MONDAY_9, now=MONDAY_9, field_value=None) is None
    past = due_at(timing, base=MONDAY_9, now=MONDAY_9, field_value=date(2026, 3, 1))
    assert past == MONDAY_9


def test_unknown_timezone_falls_back_to_the_default() -> None:
    timing = Timing(Mode.INTERVAL, 0, Unit.DAY, at_hour=time(12))
    assert due_at(
        timing, base=MONDAY_9, now=MONDAY_9, timezone="Nowhere/City", default_timezone="Asia/Tokyo"
    ) == datetime(2026, 3, 3, 3, tzinfo=UTC)


def test_month_ends_clamp() -> None:
    assert add_months(datetime(2026, 1, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2024, 2, 29, tzinfo=UTC), 12) == datetime(2025, 2, 28, tzinfo=UTC)


def test_labels() -> None:
    assert describe(Timing(Mode.INTERVAL, 3, Unit.DAY, at_hour=time(9))) == (
        "after 3 days, 09:00 contact time"
    )
    assert describe(Timing(Mode.RELATIVE, field="renewal_date", offset_days=-3)) == (
        "3 days before renewal_date, 09:00"
    )


zones = st.sampled_from(
    [
        "UTC",
        "Europe/Paris",
        "America/Los_Angeles",
        "Asia/Kolkata",
        "Australia/Lord_Howe",
        "Pacific/Chatham",
    ]
)
moments = st.datetimes(
    min_value=datetime(2020, 1, 1),
    max_value=datetime(2035, 1, 1),
    allow_imaginary=False,
    timezones=st.just(UTC),
)
hours = st.times().map(lambda t: t.replace(second=0, microsecond=0))
days = st.frozensets(st.integers(0, 6), min_size=1)


@settings(max_examples=300, deadline=None)
@given(
    base=moments,
    amount=st.integers(0, 400),
    unit=st.sampled_from(list(Unit)),
    zone=zones,
    hour=st.none() | hours,
    weekdays=st.none() | days,
)
def test_never_before_the_interval_or_now(
    base: datetime,
    amount: int,
    unit: Unit,
    zone: str,
    hour: time | None,
    weekdays: frozenset[int] | None,
) -> None:
    timing = Timing(Mode.INTERVAL, amount, unit, at_hour=hour, weekdays=weekdays or frozenset())
    now = base
    due = due_at(timing, base=base, now=now, timezone=zone)
    assert due is not None
    assert due >= now
    local = due.astimezone(ZoneInfo(zone))
    if weekdays:
        assert local.weekday() in weekdays
    if hour is not None and not weekdays:
        # Wall-clock hours that a DST change skips are shifted by the gap.
        assert abs((local.hour * 60 + local.minute) - (hour.hour * 60 + hour.minute)) <= 60
    if not timing.contact_specific:
        assert due == add_interval(base, amount, unit)
    else:
        assert due >= add_interval(base, amount, unit)


@settings(max_examples=200, deadline=None)
@given(base=moments, zone=zones, start=hours, end=hours)
def test_window_results_fall_inside_the_window(
    base: datetime, zone: str, start: time, end: time
) -> None:
    if start == end:
        return
    timing = Timing(Mode.INTERVAL, 1, Unit.HOUR, window_start=start, window_end=end)
    due = due_at(timing, base=base, now=base, timezone=zone)
    assert due is not None
    assert due >= base
    low, high = sorted((start, end))
    clock = due.astimezone(ZoneInfo(zone)).time().replace(tzinfo=None)
    # Inside the window, give or take a DST gap at its start.
    assert (
        low <= clock < high
        or abs((clock.hour * 60 + clock.minute) - (low.hour * 60 + low.minute)) <= 60
    )
