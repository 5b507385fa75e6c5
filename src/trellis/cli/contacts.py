from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from trellis.cli.common import application, clock_from, console, fail, run, settings

if TYPE_CHECKING:
    from trellis.domains.imports.service import Tallies

app = typer.Typer(help="Contacts: import from CSV.", no_args_is_help=True, rich_markup_mode=None)

SHOWN_ERRORS = 20


def _mapping(pairs: list[str]) -> dict[str, str | None]:
    mapping: dict[str, str | None] = {}
    for pair in pairs:
        header, sep, alias = pair.partition("=")
        if not sep or not header.strip():
            fail(f"--map takes 'CSV header=alias' (or 'CSV header=' to skip), not {pair!r}")
        mapping[header.strip()] = alias.strip() or None
    return mapping


@app.command("import")
def import_csv(
    file: Path = typer.Argument(..., help="The CSV file.", show_default=False),
    map_: list[str] = typer.Option(
        [], "--map", help="'CSV header=alias' overrides the automatic mapping; 'Header=' skips."
    ),
    tag: list[str] = typer.Option([], "--tag", help="A tag for every imported contact."),
    segment: int | None = typer.Option(None, "--segment", help="Add every contact to it."),
    owner: str | None = typer.Option(None, "--owner", help="Email of the user who owns them."),
    delimiter: str | None = typer.Option(
        None, "--delimiter", help=", ; tab or | (detected when not given)."
    ),
    encoding: str | None = typer.Option(
        None, "--encoding", help="utf-8, latin-1 or cp1252 (detected when not given)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check every row; write nothing."),
    now: str | None = typer.Option(None, "--now", help="Act as if it were this ISO 8601 time."),
) -> None:
    """Create or update contacts from a CSV file, by email or an identifying field.

    Bad rows are reported by line and skipped; every good row is imported. Exits 0 when the
    file was processed, even if some rows failed.
    """
    from pydantic import ValidationError

    from trellis.actor import Actor
    from trellis.domains.imports.schemas import ImportOptions
    from trellis.domains.imports.service import import_service
    from trellis.domains.imports.tasks import ImportStopped, process, scan
    from trellis.domains.users.service import user_service

    path = file.expanduser().resolve()
    if not path.exists():
        fail(f"no such file: {file}")
    if not path.is_file():
        fail(f"not a file: {file}")
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror or exc}")
    current = settings()
    clock = clock_from(now)
    mapping = _mapping(map_)
    if segment is not None and segment < 1:
        fail("--segment must be a segment id (a positive number)")
    try:
        options = ImportOptions(
            mapping=mapping, delimiter=delimiter, encoding=encoding, tags=tag, segment_id=segment
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        fail(f"--{'.'.join(str(p) for p in first['loc'])}: {first['msg']}")
    actor = Actor.system("cli")
    errors_file = current.uploads_dir / "imports" / f"cli-{uuid.uuid4().hex}" / "errors.csv"

    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    progress = Progress(
        TextColumn("[bold]importing" if not dry_run else "[bold]checking"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TextColumn("{task.fields[rows]:>10,} rows"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )

    async def work() -> tuple[Tallies, float, bool]:
        async with application(current, clock) as trellis:
            database = trellis.database
            if owner is not None:
                async with database.unit_of_work(read_only=True) as session:
                    user = await user_service.find_by_email(session, owner.strip().lower())
                if user is None:
                    fail(f"--owner: no user with the email {owner}")
                options.owner_id = user.id
            if dry_run:
                async with database.unit_of_work(read_only=True) as session:
                    plan = await import_service.plan(
                        session, path=path, options=options, actor=actor, pointer=""
                    )
                plan.errors_file = errors_file
            else:
                async with database.unit_of_work() as session:
                    _, plan = await import_service.create(
                        session,
                        path=path,
                        filename=path.name,
                        options=options,
                        errors_file=errors_file,
                        actor=actor,
                        now=clock.now(),
                        enqueue=False,
                    )
            task = progress.add_task("import", total=plan.size_bytes or None, rows=0)

            def show(tallies: Tallies) -> None:
                progress.update(task, completed=tallies.bytes_read, rows=tallies.rows_read)

            started = time.perf_counter()
            stopped = False
            with progress:
                if dry_run:
                    tallies = scan(plan, on_progress=show)
                else:
                    try:
                        tallies = await process(database, plan, clock=clock, on_progress=show)
                    except ImportStopped as exc:
                        tallies, stopped = exc.tallies, True
                        console.print(f"[bold red]error:[/] {exc}", highlight=False)
            return tallies, time.perf_counter() - started, stopped

    tallies, seconds, stopped = run(work)
    _report(tallies, seconds, errors_file, dry_run=dry_run)
    if stopped:
        raise typer.Exit(1)


def _report(tallies: Tallies, seconds: float, errors_file: Path, *, dry_run: bool) -> None:
    rate = tallies.rows_read / seconds if seconds > 0 else 0.0
    for error in tallies.first_errors[:SHOWN_ERRORS]:
        column = f" [{error['column']}]" if error["column"] else ""
        value = f" ({error['value']!r})" if error.get("value") else ""
        console.print(f"line {error['line']}{column}: {error['reason']}{value}", highlight=False)
    if tallies.error_count > SHOWN_ERRORS:
        console.print(
            f"... and {tallies.error_count - SHOWN_ERRORS:,} more errors", highlight=False
        )
    if tallies.error_count:
        console.print(f"all errors: {errors_file}", highlight=False)
    if dry_run:
        typer.echo(
            f"dry run: {tallies.rows_read:,} rows read, {tallies.unchanged:,} valid, "
            f"{tallies.failed:,} failed; {seconds:.1f} s ({rate:,.0f} rows/s); nothing written"
        )
        return
    typer.echo(
        f"{tallies.rows_read:,} rows read: {tallies.created:,} created, "
        f"{tallies.updated:,} updated, {tallies.unchanged:,} unchanged, "
        f"{tallies.failed:,} failed in {seconds:.1f} s ({rate:,.0f} rows/s)"
    )
