"""Every timing path gives a step the due time anchor + delay, adjusted once for its hour,
window and weekdays in the contact's timezone: property tests through the API and the trigger.

The paths: a decision's wait running out -> a delayed email on its "no" path (a timing with an
hour, a window or weekdays is always scheduled and claimed later, as an external step such as a
webhook is, rather than run in the same breath); a delayed action -> a delayed email; a jump ->
a delayed email. The expected instant is computed here, from the
rules in docs/campaigns.md, without the engine. Each example triggers just before that instant
(the email has not gone) and exactly at it (it has, at that instant).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from tests.domains.campaigns.helpers import campaign, contacts, edge, step, trigger
from tests.domains.emails.helpers import create_email
from tests.fixtures.api import START, Harness

ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]
# Each example runs in its own month, so that examples never share the clock's past.
_months = itertools.count()


@dataclass(frozen=True)
class Delay:
    amount: int
    unit: str  # hour | day
    at_hour: time | None = None
    window: tuple[time, time] | None = None
    weekdays: frozenset[int] = frozenset()

    def timing(self) -> dict[str, Any]:
        timing: dict[str, Any] = {"mode": "interval", "amount": self.amount, "unit": self.unit}
        if self.at_hour is not None:
            timing["at_hour"] = self.at_hour.strftime("%H:%M")
        if self.window is not None:
            timing["window_start"] = self.window[0].strftime("%H:%M")
            timing["window_end"] = self.window[1].strftime("%H:%M")
        if self.weekdays:
            timing["weekdays"] = sorted(self.weekdays)
        return timing


def expected_due(anchor: datetime, delay: Delay, zone: str) -> datetime:
    """anchor + delay, then once: the hour (or the next day's), the window, the weekdays."""
    tz = ZoneInfo(zone)
    moment = anchor + timedelta(**{f"{delay.unit}s": delay.amount})
    if delay.at_hour is None and delay.window is None and not delay.weekdays:
        return moment
    local = moment.astimezone(tz)

    def at(day: date, clock: time) -> datetime:
        return datetime.combine(day, clock, tzinfo=tz)

    if delay.at_hour is not None:
        local = (
            at(local.date(), delay.at_hour)
            if at(local.date(), delay.at_hour) >= local
            else at(local.date() + timedelta(days=1), delay.at_hour)
        )
    elif delay.window is not None:
        opens, closes = delay.window
        if local.time() < opens:
            local = at(local.date(), opens)
        elif local.time() >= closes:
            local = at(local.date() + timedelta(days=1), opens)
    if delay.weekdays:
        day = local.date()
        while day.weekday() not in delay.weekdays:
            day += timedelta(days=1)
        if day != local.date():
            opens_at = delay.at_hour or (delay.window[0] if delay.window else local.time())
            local = at(day, opens_at)
    return local.astimezone(UTC)


hours = st.integers(min_value=0, max_value=23).map(lambda h: time(h, 0))


@st.composite
def delays(draw: st.DrawFn) -> Delay:
    unit = draw(st.sampled_from(["hour", "day"]))
    amount = draw(st.integers(min_value=1, max_value=72 if unit == "hour" else 6))
    shape = draw(st.sampled_from(["plain", "at_hour", "window"]))
    at_hour = draw(hours) if shape == "at_hour" else None
    window = None
    if shape == "window":
        opens = draw(st.integers(min_value=0, max_value=22))
        closes = draw(st.integers(min_value=opens + 1, max_value=23))
        window = (time(opens, 0), time(closes, 0))
    weekdays = draw(st.frozensets(st.integers(min_value=0, max_value=6), max_size=6))
    return Delay(amount, unit, at_hour, window, weekdays)


async def email_step(
    harness: Harness, admin: httpx.AsyncClient, journey_of: dict[str, Any]
) -> dict[str, Any]:
    # The jobs a trigger's commits woke (email delivery) finish first: a busy machine must not
    # turn their write lock into a failed read.
    await harness.app.state.jobs.drain()
    response = await admin.get(
        f"/api/v2/campaigns/{journey_of['campaign']}/contacts/{journey_of['contact']}/journey"
    )
    assert response.status_code == 200, response.text
    steps = [s for s in response.json()["steps"] if s["event_key"] == journey_of["email"]]
    return max(steps, key=lambda s: s["rotation"]) if steps else {"status": "absent"}


async def check(
    harness: Harness, admin: httpx.AsyncClient, journey_of: dict[str, Any], due: datetime
) -> None:
    """Just before ``due`` the email has not gone; at ``due`` it has, at that instant."""
    note(f"expected due {due.isoformat()}")
    await trigger(harness, due - timedelta(minutes=2))
    before = await email_step(harness, admin, journey_of)
    assert before["status"] in ("absent", "scheduled"), before
    await trigger(harness, due)
    after = await email_step(harness, admin, journey_of)
    assert after["status"] == "done", (
        f"{after['status']}: due {after['due_at']}, reached {after['reached_at']}, "
        f"expected done at {due.isoformat()}"
    )
    assert datetime.fromisoformat(after["done_at"]) == due


async def start(
    harness: Harness,
    admin: httpx.AsyncClient,
    zone: str,
    offset_minutes: int,
    events: list[dict[str, Any]],
    edges: list[dict[str, Any]],
    email_key: str,
) -> tuple[datetime, dict[str, Any]]:
    """A contact in ``zone`` entering the campaign at a time of its own."""
    note(f"zone {zone}, events {[(e['type'], e['timing']) for e in events]}")
    entered = START + timedelta(days=31 * next(_months), minutes=offset_minutes)
    harness.clock.set(entered)
    (contact,) = await contacts(
        admin, {"email": f"p{offset_minutes}-{entered:%Y%m}@example.com", "timezone": zone}
    )
    created = await campaign(admin, events=events, edges=edges)
    added = await admin.post(
        f"/api/v2/campaigns/{created['id']}/members", json={"contact_ids": [contact]}
    )
    assert added.status_code < 300, added.text
    return entered, {"campaign": created["id"], "contact": contact, "email": email_key}


examples = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    # Each example is a whole campaign run through the API: shrinking would take minutes.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
offsets = st.integers(min_value=0, max_value=7 * 24 * 60)


@examples
@given(zone=st.sampled_from(ZONES), offset=offsets, delay=delays())
async def test_expired_decision_then_delayed_email(
    harness: Harness, admin: httpx.AsyncClient, zone: str, offset: int, delay: Delay
) -> None:
    """The email on the "no" path is due when the decision's wait runs out: the decision's
    reach + the delay, adjusted once (it was due twice the delay after the reach)."""
    email = await create_email(admin)
    opened = step("contact.performs_event", {"name": "opened"}, name="Did it?")
    reminder = step("email.send", {"email_id": email["id"]}, name="Reminder", timing=delay.timing())
    entered, journey_of = await start(
        harness,
        admin,
        zone,
        offset,
        [opened, reminder],
        [edge(None, opened), edge(opened, reminder, "no")],
        reminder["key"],
    )
    await check(harness, admin, journey_of, expected_due(entered, delay, zone))


@examples
@given(zone=st.sampled_from(ZONES), offset=offsets, first=delays(), second=delays())
async def test_delayed_action_then_delayed_email(
    harness: Harness, admin: httpx.AsyncClient, zone: str, offset: int, first: Delay, second: Delay
) -> None:
    email = await create_email(admin)
    tag = step("contact.change_tags", {"add": ["first"]}, name="First", timing=first.timing())
    send = step("email.send", {"email_id": email["id"]}, name="Then", timing=second.timing())
    entered, journey_of = await start(
        harness, admin, zone, offset, [tag, send], [edge(None, tag), edge(tag, send)], send["key"]
    )
    tagged_at = expected_due(entered, first, zone)
    await trigger(harness, tagged_at)
    await check(harness, admin, journey_of, expected_due(tagged_at, second, zone))


@examples
@given(
    zone=st.sampled_from(ZONES),
    offset=offsets,
    wait=st.integers(min_value=1, max_value=48),
    delay=delays(),
)
async def test_jump_then_delayed_email(
    harness: Harness, admin: httpx.AsyncClient, zone: str, offset: int, wait: int, delay: Delay
) -> None:
    """A jump starts its target's timing from the moment it jumps."""
    email = await create_email(admin)
    hold = step(
        "contact.change_tags",
        {"add": ["held"]},
        name="Hold",
        timing={"mode": "interval", "amount": 10, "unit": "year"},
    )
    target = step("email.send", {"email_id": email["id"]}, name="Target", timing=delay.timing())
    jump = step(
        "campaign.jump_to_event",
        {"target": target["key"]},
        name="Jump",
        timing={"mode": "interval", "amount": wait, "unit": "hour"},
    )
    entered, journey_of = await start(
        harness,
        admin,
        zone,
        offset,
        [hold, target, jump],
        [edge(None, hold), edge(hold, target), edge(None, jump)],
        target["key"],
    )
    jumped_at = entered + timedelta(hours=wait)
    await trigger(harness, jumped_at)
    await check(harness, admin, journey_of, expected_due(jumped_at, delay, zone))
