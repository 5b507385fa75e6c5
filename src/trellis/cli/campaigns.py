from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

import typer

from trellis.cli.common import application, clock_from, console, run, settings

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
) -> None:
    """Run everything due at NOW (memberships, first steps, scheduled steps, expired
    decisions) until nothing is, then print a summary."""
    current = settings()
    clock = clock_from(now)
    if not _anything_due(current.database_url, clock.now(), campaign):
        return
    _trigger(current, clock, campaign)


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


def _trigger(current: Settings, clock: Clock, campaign: list[int]) -> None:
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from trellis.domains.campaigns.dispatch import campaign_dispatch
    from trellis.domains.campaigns.schemas import TriggerSummary
    from trellis.domains.emails.delivery import email_delivery
    from trellis.domains.emails.schemas import DeliveryRead

    async def work() -> tuple[TriggerSummary, DeliveryRead]:
        async with application(current, clock) as trellis:
            database = trellis.database
            with Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            ) as progress:
                task = progress.add_task("running due steps")

                def show(summary: TriggerSummary) -> None:
                    progress.update(
                        task,
                        description=(
                            f"{summary.joined} entered, {summary.exited} exited, "
                            f"{summary.executed} steps executed, {summary.scheduled} scheduled"
                        ),
                    )

                summary = await campaign_dispatch.trigger(
                    database, now=clock.now(), campaign_ids=campaign or None, progress=show
                )
                # What the steps queued goes out now, as `serve` would do within a second.
                progress.update(task, description="delivering queued email")
                delivered = await email_delivery.deliver_due(database, now=clock.now())
                return summary, delivered

    summary, delivered = run(work)
    _report(summary.model_dump(mode="json"), delivered.model_dump(mode="json"))


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
