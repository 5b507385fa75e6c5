"""``trellis data``: retention clean-up and data-subject requests (docs/privacy.md)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from trellis.cli.common import application, clock_from, console, fail, run, settings

if TYPE_CHECKING:
    from trellis.domains.privacy.service import RunOutcome

app = typer.Typer(help="Data retention and personal-data requests.", no_args_is_help=True)


@app.command()
def cleanup(
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Only count what each policy would remove; change nothing."
    ),
    policy: list[str] = typer.Option(
        [], "--policy", help="Run only this policy (repeatable); default: every enabled one."
    ),
    now: str | None = typer.Option(
        None, "--now", help="Act as if it were this ISO 8601 time (periods count back from it)."
    ),
) -> None:
    """Apply the retention policies now, in short batches, and record each run."""
    from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

    from trellis.domains.privacy.policies import BY_NAME
    from trellis.domains.privacy.service import privacy_service

    unknown = [name for name in policy if name not in BY_NAME]
    if unknown:
        fail(f"--policy: unknown policy {unknown[0]!r}; known: {', '.join(BY_NAME)}")
    current = settings()
    clock = clock_from(now)

    async def work() -> list[RunOutcome]:
        progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} rows"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        tasks: dict[tuple[str, str], TaskID] = {}

        def report(name: str, table: str, done: int, total: int) -> None:
            key = (name, table)
            if key not in tasks:
                tasks[key] = progress.add_task(f"{name}: {table}", total=total or 1)
            progress.update(tasks[key], completed=done if total else 1, total=total or 1)

        async with application(current, clock) as trellis:
            with progress:
                return await privacy_service.cleanup(
                    trellis.database,
                    now=clock.now(),
                    names=policy or None,
                    dry_run=dry_run,
                    trigger="cli",
                    progress=report,
                )

    outcomes = run(work)
    verb = "would remove" if dry_run else "removed"
    for outcome in outcomes:
        tables = ", ".join(f"{table} {rows}" for table, rows in outcome.details.items())
        status = f"failed: {outcome.error}" if outcome.error else f"{verb} {outcome.rows} rows"
        typer.echo(f"{outcome.policy}: {status} ({tables or 'nothing'}) in {outcome.seconds:.2f} s")
    if not outcomes:
        typer.echo("no retention policy is enabled")
    failed = [o for o in outcomes if o.error]
    if failed:
        fail(f"{failed[0].policy}: {failed[0].error}")


def _contact_id(contact: int | None, email: str | None) -> tuple[int | None, str | None]:
    if (contact is None) == (email is None):
        fail("give exactly one of --contact ID or --email ADDRESS")
    return contact, email


@app.command()
def export(
    contact: int | None = typer.Option(None, "--contact", min=1, help="The contact's id."),
    email: str | None = typer.Option(None, "--email", help="The contact's email address."),
    output: Path = typer.Option(..., "-o", "--output", help="The ZIP file to write."),
) -> None:
    """Everything held about one contact, as a ZIP of JSON files and an HTML summary."""
    from trellis.actor import Actor
    from trellis.domains.privacy.service import privacy_service

    contact_id, address = _contact_id(contact, email)
    current = settings()
    clock = clock_from(None)

    async def work() -> bytes:
        async with (
            application(current, clock) as trellis,
            trellis.database.unit_of_work() as session,
        ):
            found = contact_id or await privacy_service.contact_by_email(session, address or "")
            _, body = await privacy_service.export(
                session, found, actor=Actor.system("cli"), now=clock.now()
            )
            return body

    body = run(work)
    try:
        output.write_bytes(body)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")
    typer.echo(str(output))


@app.command()
def erase(
    contact: int | None = typer.Option(None, "--contact", min=1, help="The contact's id."),
    email: str | None = typer.Option(None, "--email", help="The contact's email address."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
) -> None:
    """Erase one contact on request: every trace removed, the address suppressed so that no
    import, form or API upsert brings the person back unless they opt in again."""
    from trellis.actor import Actor
    from trellis.domains.privacy.service import privacy_service

    contact_id, address = _contact_id(contact, email)
    if not yes and not typer.confirm(f"Erase {address or f'contact {contact_id}'} for good?"):
        fail("nothing erased")
    current = settings()
    clock = clock_from(None)

    async def work() -> int:
        async with (
            application(current, clock) as trellis,
            trellis.database.unit_of_work() as session,
        ):
            found = contact_id or await privacy_service.contact_by_email(session, address or "")
            result = await privacy_service.erase(
                session, found, actor=Actor.system("cli"), now=clock.now()
            )
            return result.contact_id

    erased = run(work)
    typer.echo(f"erased contact {erased}")
