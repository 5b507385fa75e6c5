from __future__ import annotations

import typer

from trellis.cli.common import application, clock_from, console, run, settings

app = typer.Typer(help="Campaigns: run what is due.", no_args_is_help=True)


@app.command()
def trigger(
    campaign: list[int] = typer.Option([], "--campaign", help="Only this campaign (repeatable)."),
    now: str | None = typer.Option(
        None, "--now", help="Act as if it were this ISO 8601 time, e.g. 2026-05-01T09:00:00Z."
    ),
) -> None:
    """Run everything due at NOW (memberships, first steps, scheduled steps, expired
    decisions) until nothing is, then print a summary."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from trellis.domains.campaigns.dispatch import campaign_dispatch
    from trellis.domains.campaigns.schemas import TriggerSummary
    from trellis.domains.emails.delivery import email_delivery
    from trellis.domains.emails.schemas import DeliveryRead

    current = settings()
    clock = clock_from(now)

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
                            f"joined {summary.joined}, exited {summary.exited}, "
                            f"executed {summary.executed}, scheduled {summary.scheduled}"
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
    console.print(
        f"campaigns {summary.campaigns}: joined {summary.joined}, exited {summary.exited}, "
        f"executed {summary.executed}, scheduled {summary.scheduled}, waiting "
        f"{summary.waiting}, decisions expired {summary.decisions_expired}, failed "
        f"{summary.failed}, dead {summary.dead} in {summary.seconds:.2f}s"
    )
    console.print(
        f"emails sent {delivered.sent}, retried {delivered.retried}, failed {delivered.failed}, "
        f"deferred {delivered.deferred}, skipped {delivered.skipped}"
    )
    typer.echo(summary.model_dump_json())
