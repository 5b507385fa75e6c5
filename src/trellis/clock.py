"""Time as a dependency: the system clock in production, a fixed or advancing one in tests
and for CLI commands run with ``--now``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until it is moved; ``advance`` walks it forward."""

    def __init__(self, at: datetime) -> None:
        self._at = ensure_aware(at)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = ensure_aware(at)

    def advance(self, delta: timedelta) -> datetime:
        self._at += delta
        return self._at


class OffsetClock:
    """Real time shifted so that it starts at ``at``: time still passes, as in ``--now``."""

    def __init__(self, at: datetime) -> None:
        self._offset = ensure_aware(at) - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset


def ensure_aware(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC; aware ones are converted to UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 time (``Z`` accepted); naive values mean UTC."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    return ensure_aware(datetime.fromisoformat(value))
