from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

import typer

from trellis.cli.common import application, clock_from, console, fail, run, settings

if TYPE_CHECKING:
    from trellis.clock import Clock
    from trellis.settings import Settings

app = typer.Typer(help="Campaigns: run what is due.", no_args_is_help=True, rich_markup_mode=None)


@app.command()
def trigger(
    campaign: list[int] = typer.Option([], "--campaign", help="Only this campaign (repeatable)."),
    now: str | None = typer.Option(
        None, "--now", help="Act as if it were this ISO 8601 time, e.g. 2026-05-01T09:00:00Z."
    ),
    until: str | None = typer.Option(
        None,
        "--until",
        help="Walk simulated time from NOW to this ISO 8601 time in one process, running what "
        "is due at each step (as cron would at each of those times).",
    ),
    step: str = typer.Option("1h", "--step", help="With --until: 30s, 15m, 1h or 1d."),
) -> None:
    """Run everything due at NOW (memberships, first steps, scheduled steps, expired
    decisions) until nothing is, then print a summary."""
    current = settings()
    clock = clock_from(now)
    if until is None:
        if not _anything_due(current.database_url, clock.now(), campaign):
            return
        _trigger(current, clock, campaign, [clock.now()])
        return
    _trigger(current, clock, campaign, _instants(clock.now(), clock_from(until).now(), step))


def _anything_due(url: str, now: datetime, campaign_ids: list[int]) -> bool:
    """Ask the database first, without building the application: cron runs this command every
    few minutes and it mostly has nothing to do. When nothing is due the (empty) summary is
    printed here. Any trouble with the quick question means "maybe": the full run decides."""
    from trellis.domains.campaigns.pending import pending_work

    try:
        pending = pending_work(url, now=now, campaign_ids=campaign_ids)
    except Exception:  # the full run reports database problems properly
        return True
    if pending.due:
        return True
    empty = dict.fromkeys(SUMMARY_FIELDS, 0) | {
        "campaigns": pending.campaigns,
        "steps": {},
        "seconds": 0.0,
    }
    _report(empty, dict.fromkeys(DELIVERY_FIELDS, 0))
    return False


STEP_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_INSTANTS = 100_000


def _instants(start: datetime, end: datetime, step: str) -> list[datetime]:
    """NOW, NOW + STEP, ... up to UNTIL (included when it falls on a step, and always last)."""
    from datetime import timedelta

    amount, unit = step[:-1], step[-1:]
    if unit not in STEP_UNITS or not amount.isdigit() or int(amount) < 1:
        fail(f"--step must be a positive number of s, m, h or d such as 1h, not {step!r}")
    if end < start:
        fail("--until must not be before --now")
    delta = timedelta(seconds=int(amount) * STEP_UNITS[unit])
    count = int((end - start) / delta) + 1
    if count > MAX_INSTANTS:
        fail(f"--until and --step make {count:,} instants; at most {MAX_INSTANTS:,} in one run")
    instants = [start + i * delta for i in range(count)]
    if instants[-1] != end:
        instants.append(end)
    return instants


def _trigger(
    current: Settings, clock: Clock, campaign: list[int], instants: list[datetime]
) -> None:
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from trellis.clock import FixedClock
    from trellis.domains.campaigns.dispatch import campaign_dispatch
    from trellis.domains.campaigns.schemas import TriggerSummary
    from trellis.domains.emails.delivery import email_delivery
    from trellis.domains.emails.schemas import DeliveryRead

    walking = FixedClock(instants[0]) if len(instants) > 1 else clock

    async def work() -> tuple[TriggerSummary, DeliveryRead]:
        total = TriggerSummary()
        sent = DeliveryRead(sent=0, failed=0, retried=0, skipped=0, deferred=0)
        async with application(current, walking) as trellis:
            database = trellis.database
            with Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            ) as progress:
                task = progress.add_task("running due steps")
                for at in instants:
                    if isinstance(walking, FixedClock):
                        walking.set(at)
                    prefix = f"{at:%Y-%m-%d %H:%M}: " if len(instants) > 1 else ""

                    def show(summary: TriggerSummary, prefix: str = prefix) -> None:
                        progress.update(
                            task,
                            description=(
                                f"{prefix}{summary.joined} entered, {summary.exited} exited, "
                                f"{summary.executed} steps executed, "
                                f"{summary.scheduled} scheduled"
                            ),
                        )

                    summary = await campaign_dispatch.trigger(
                        database, now=at, campaign_ids=campaign or None, progress=show
                    )
                    # What the steps queued goes out now, as `serve` would within a second.
                    progress.update(task, description=f"{prefix}delivering queued email")
                    delivered = await email_delivery.deliver_due(database, now=at)
                    if len(instants) > 1 and (summary.executed or summary.joined or delivered.sent):
                        console.print(
                            f"{prefix}{summary.joined} entered, {summary.executed} steps "
                            f"executed, {delivered.sent} emails sent",
                            highlight=False,
                        )
                    _accumulate(total, summary, sent, delivered)
        return total, sent

    summary, delivered = run(work)
    _report(summary.model_dump(mode="json"), delivered.model_dump(mode="json"))


def _accumulate(total: Any, summary: Any, sent: Any, delivered: Any) -> None:
    """Add one instant's summary and deliveries to the run's totals."""
    for name in SUMMARY_FIELDS:
        if name == "campaigns":
            total.campaigns = max(total.campaigns, summary.campaigns)
        elif name == "steps":
            for event_type, count in summary.steps.items():
                total.steps[event_type] = total.steps.get(event_type, 0) + count
        elif name == "seconds":
            total.seconds = round(total.seconds + summary.seconds, 3)
        else:
            setattr(total, name, getattr(total, name) + getattr(summary, name))
    for name in DELIVERY_FIELDS:
        setattr(sent, name, getattr(sent, name) + getattr(delivered, name))


# The summary's JSON, the same whether the command ran or found nothing to do.
SUMMARY_FIELDS = (
    "campaigns",
    "joined",
    "exited",
    "executed",
    "steps",
    "scheduled",
    "waiting",
    "failed",
    "dead",
    "decisions_expired",
    "seconds",
)
DELIVERY_FIELDS = ("sent", "retried", "failed", "deferred", "skipped")


def _report(summary: dict[str, Any], delivered: dict[str, Any]) -> None:
    """What the run did, in words on stderr and as one JSON object on stdout. Every number
    counts rows of the journal this run wrote: a step counts once, however it ran (first
    steps of new members, scheduled steps, decisions)."""
    # Plain stderr lines: rich would cost the nothing-due path a tenth of a second.
    steps = summary["steps"]
    by_type = ", ".join(f"{name} {count}" for name, count in sorted(steps.items()))
    for line in (
        f"campaigns {summary['campaigns']}: {summary['joined']} contacts entered, "
        f"{summary['exited']} exited",
        f"steps executed {summary['executed']}" + (f": {by_type}" if by_type else ""),
        f"steps scheduled {summary['scheduled']}, decisions waiting {summary['waiting']}, "
        f"decisions expired {summary['decisions_expired']}",
        f"steps failed {summary['failed']} ({summary['dead']} for good, the rest retried later) "
        f"in {summary['seconds']:.2f} s",
        f"emails sent {delivered['sent']}, retried {delivered['retried']}, failed "
        f"{delivered['failed']}, deferred {delivered['deferred']}, skipped {delivered['skipped']}",
    ):
        typer.echo(line, err=True)
    typer.echo(json.dumps(summary, separators=(",", ":")))
