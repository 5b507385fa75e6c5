"""When a step is due: pure schedule arithmetic in the contact's timezone.

Rules, chosen once and documented in docs/campaigns.md:

* ``interval``: the base (the parent step's execution time) plus the interval, months and years
  by calendar. Then, in the contact's timezone and in this order:
  an hour of day moves the time to that hour on the same day, or **the next day** when that
  hour has already passed on that day (so "after 3 days at 09:00" never fires before 3 days);
  an allowed window moves a time before it to its start and a time at or after its end to the
  next day's start; allowed weekdays move forward a day at a time, keeping the time of day.
* ``date``: the fixed moment; already past means now.
* ``relative``: a contact date field plus an offset in days, at an hour (09:00 by default) in
  the contact's timezone; already past means now; no date means the step cannot be scheduled.
* ``immediate``: the base.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class Mode(StrEnum):
    IMMEDIATE = "immediate"
    INTERVAL = "interval"
    DATE = "date"
    RELATIVE = "relative"


class Unit(StrEnum):
    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


DEFAULT_RELATIVE_HOUR = time(9, 0)


@dataclass(frozen=True)
class Timing:
    mode: Mode = Mode.IMMEDIATE
    amount: int = 0
    unit: Unit = Unit.DAY
    at_hour: time | None = None
    window_start: time | None = None
    window_end: time | None = None
    # Allowed weekdays, 0 = Monday ... 6 = Sunday; empty means every day.
    weekdays: frozenset[int] = field(default_factory=frozenset)
    at: datetime | None = None
    field: str | None = None
    offset_days: int = 0

    @property
    def contact_specific(self) -> bool:
        """True when the due time depends on the contact (timezone or a field)."""
        if self.mode is Mode.RELATIVE:
            return True
        return self.mode is Mode.INTERVAL and (
            self.at_hour is not None
            or (self.window_start is not None and self.window_end is not None)
            or bool(self.weekdays)
        )

    @property
    def is_immediate(self) -> bool:
        return self.mode is Mode.IMMEDIATE or (
            self.mode is Mode.INTERVAL and self.amount == 0 and not self.contact_specific
        )


def add_interval(base: datetime, amount: int, unit: Unit) -> datetime:
    if unit is Unit.MINUTE:
        return base + timedelta(minutes=amount)
    if unit is Unit.HOUR:
        return base + timedelta(hours=amount)
    if unit is Unit.DAY:
        return base + timedelta(days=amount)
    if unit is Unit.WEEK:
        return base + timedelta(weeks=amount)
    months = amount * (12 if unit is Unit.YEAR else 1)
    return add_months(base, months)


def add_months(moment: datetime, months: int) -> datetime:
    index = moment.month - 1 + months
    year = moment.year + index // 12
    month = index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def zone(name: str | None, default: str) -> ZoneInfo:
    for candidate in (name, default, "UTC"):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")  # pragma: no cover - UTC always exists


def _local(moment: datetime, tz: ZoneInfo) -> datetime:
    return moment.astimezone(tz)


def _at(day: date, clock: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=tz)


def _fit(candidate: datetime, timing: Timing, tz: ZoneInfo) -> datetime:
    """Move a candidate time to the hour, window and weekdays the timing allows."""
    local = _local(candidate, tz)
    if timing.at_hour is not None:
        target = _at(local.date(), timing.at_hour, tz)
        if target < local:
            target = _at(local.date() + timedelta(days=1), timing.at_hour, tz)
        local = target
    elif timing.window_start is not None and timing.window_end is not None:
        start, end = sorted((timing.window_start, timing.window_end))
        if local.timetz().replace(tzinfo=None) < start:
            local = _at(local.date(), start, tz)
        elif local.timetz().replace(tzinfo=None) >= end:
            local = _at(local.date() + timedelta(days=1), start, tz)
    if timing.weekdays:
        clock = local.timetz().replace(tzinfo=None)
        day = local.date()
        for _ in range(7):
            if day.weekday() in timing.weekdays:
                break
            day += timedelta(days=1)
        if day != local.date():
            start = timing.at_hour or (
                min(timing.window_start, timing.window_end)
                if timing.window_start is not None and timing.window_end is not None
                else clock
            )
            local = _at(day, start, tz)
    return local.astimezone(UTC)


def due_at(
    timing: Timing,
    *,
    base: datetime,
    now: datetime,
    timezone: str | None = None,
    default_timezone: str = "UTC",
    field_value: date | datetime | None = None,
) -> datetime | None:
    """The moment a step with this timing is due, or None when it cannot be scheduled
    (a relative step whose contact has no date in the field)."""
    if timing.mode is Mode.IMMEDIATE:
        return base
    if timing.mode is Mode.DATE:
        assert timing.at is not None
        return max(timing.at, now)
    tz = zone(timezone, default_timezone)
    if timing.mode is Mode.RELATIVE:
        if field_value is None:
            return None
        day = field_value.date() if isinstance(field_value, datetime) else field_value
        moment = _at(
            day + timedelta(days=timing.offset_days), timing.at_hour or DEFAULT_RELATIVE_HOUR, tz
        ).astimezone(UTC)
        return max(moment, now)
    candidate = add_interval(base, timing.amount, timing.unit)
    if not timing.contact_specific:
        return candidate
    return _fit(max(candidate, now), timing, tz)


def describe(timing: Timing) -> str:
    """A label for the builder's edges: "after 3 days, 09:00 contact time"."""
    if timing.mode is Mode.IMMEDIATE:
        return "immediately"
    if timing.mode is Mode.DATE:
        assert timing.at is not None
        return f"on {timing.at:%Y-%m-%d %H:%M} UTC"
    if timing.mode is Mode.RELATIVE:
        when = "before" if timing.offset_days < 0 else "after"
        days = abs(timing.offset_days)
        hour = (timing.at_hour or DEFAULT_RELATIVE_HOUR).strftime("%H:%M")
        return f"{days} day{'s' if days != 1 else ''} {when} {timing.field}, {hour}"
    unit = timing.unit.value + ("s" if timing.amount != 1 else "")
    parts = [f"after {timing.amount} {unit}"]
    if timing.at_hour is not None:
        parts.append(f"{timing.at_hour:%H:%M} contact time")
    elif timing.window_start is not None and timing.window_end is not None:
        parts.append(f"between {timing.window_start:%H:%M} and {timing.window_end:%H:%M}")
    if timing.weekdays:
        names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        parts.append("on " + ", ".join(names[d] for d in sorted(timing.weekdays)))
    return ", ".join(parts)


def earliest(moments: Iterable[datetime | None]) -> datetime | None:
    present = [m for m in moments if m is not None]
    return min(present) if present else None
