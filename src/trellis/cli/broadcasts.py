"""``trellis emails broadcasts``: advance segment broadcasts deterministically."""

from __future__ import annotations

import typer

from trellis.cli.common import application, clock_from, console, run, settings

app = typer.Typer(help="Emails: segment broadcasts.", no_args_is_help=True, rich_markup_mode=None)
broadcasts = typer.Typer(
    help="Segment broadcasts: run what is due.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(broadcasts, name="broadcasts")


@broadcasts.command("run")
def run_broadcasts(
    now: str | None = typer.Option(
        None, "--now", help="Act as if it were this ISO 8601 time, e.g. 2026-05-01T09:00:00Z."
    ),
    deliver: bool = typer.Option(
        True,
        "--deliver/--no-deliver",
        help="Also deliver the queued messages now, as `serve` does within a second.",
    ),
) -> None:
    """Start the broadcasts whose start time came, add live audiences' new members, queue
    their messages (and deliver them), and mark finished broadcasts sent; prints a summary."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from trellis.domains.broadcasts.schemas import BroadcastRunRead
    from trellis.domains.broadcasts.service import broadcast_service
    from trellis.domains.emails.delivery import email_delivery
    from trellis.domains.emails.schemas import DeliveryRead

    current = settings()
    clock = clock_from(now)

    async def work() -> tuple[BroadcastRunRead, DeliveryRead | None]:
        async with application(current, clock) as trellis:
            database = trellis.database
            with Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            ) as progress:
                task = progress.add_task("advancing broadcasts")
                summary = await broadcast_service.run_due(database, now=clock.now())
                if not deliver:
                    return summary, None
                progress.update(task, description="delivering queued email")
                delivered = await email_delivery.deliver_due(database, now=clock.now())
                # What was delivered may complete a broadcast: one more pass marks it sent.
                progress.update(task, description="finishing broadcasts")
                again = await broadcast_service.run_due(database, now=clock.now())
                summary.finished += again.finished
                summary.queued += again.queued
                summary.skipped += again.skipped
                summary.added += again.added
                return summary, delivered

    summary, delivered = run(work)
    console.print(
        f"broadcasts {summary.broadcasts}: started {summary.started}, added {summary.added}, "
        f"queued {summary.queued}, skipped {summary.skipped}, finished {summary.finished}"
    )
    if delivered is not None:
        console.print(
            f"emails sent {delivered.sent}, retried {delivered.retried}, failed "
            f"{delivered.failed}, deferred {delivered.deferred}, skipped {delivered.skipped}"
        )
    typer.echo(summary.model_dump_json())
