from __future__ import annotations

import typer

from trellis.cli.common import application, clock_from, console, fail, run, settings

app = typer.Typer(
    help="Segments: rebuild memberships.", no_args_is_help=True, rich_markup_mode=None
)


@app.command()
def update(
    segment: int | None = typer.Option(
        None, "--segment", min=1, help="Rebuild only this segment (by id); default: all published."
    ),
    now: str | None = typer.Option(
        None, "--now", help="Act as if it were this ISO 8601 time (relative dates use it)."
    ),
    batch_size: int = typer.Option(
        100_000, "--batch-size", min=1, help="Contacts per transaction (by id range)."
    ),
) -> None:
    """Rebuild segment memberships: add the contacts that match, remove those that no longer
    do (never those added or removed by hand), in dependency order."""
    from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

    from trellis.domains.segments.service import RebuildResult
    from trellis.domains.segments.tasks import rebuild_segments

    current = settings()
    clock = clock_from(now)

    async def work() -> list[RebuildResult]:
        progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} batches"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        tasks: dict[int, TaskID] = {}

        def report(result: RebuildResult, done: int, total: int) -> None:
            if result.segment_id not in tasks:
                tasks[result.segment_id] = progress.add_task(
                    f"segment {result.segment_id} {result.name}", total=total
                )
            progress.update(tasks[result.segment_id], completed=done)

        async with application(current, clock) as trellis:
            with progress:
                return await rebuild_segments(
                    trellis.database,
                    now=clock.now(),
                    segment_ids=[segment] if segment is not None else None,
                    batch_size=batch_size,
                    progress=report,
                )

    results = run(work)
    failed = [r for r in results if r.error is not None]
    for r in results:
        if r.error is None:
            typer.echo(
                f"segment {r.segment_id} {r.name!r}: {r.joined} joined, {r.left} left, "
                f"{r.total} members, {r.seconds:.2f} s"
            )
    if not results:
        typer.echo("no published segments to rebuild")
    if failed:
        first = failed[0]
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        fail(f"segment {first.segment_id} {first.name!r}: {first.error}{more}")
