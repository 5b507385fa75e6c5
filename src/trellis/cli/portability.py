"""``trellis campaigns export`` and ``trellis campaigns import``: the campaign export file."""

from __future__ import annotations

from pathlib import Path

import typer

from trellis.cli.common import application, clock_from, console, fail, run, settings


def export_campaigns(
    campaign_ids: list[int] = typer.Argument(..., help="The campaigns to export.", min=1),
    output: Path = typer.Option(..., "-o", "--output", help="The ZIP file to write."),
) -> None:
    """Export campaigns with everything they need as a ZIP.

    The file holds the campaigns and the segments, emails, forms, landing pages, assets, custom
    fields, stages and projects they use; no contacts and no personal data."""
    from trellis.actor import Actor
    from trellis.domains.portability.service import portability_service

    current = settings()
    clock = clock_from(None)

    async def work() -> tuple[int, bytes]:
        async with (
            application(current, clock) as trellis,
            trellis.database.unit_of_work() as session,
        ):
            manifest, body = await portability_service.export(
                session, campaign_ids, actor=Actor.system("cli"), now=clock.now()
            )
            return sum(len(v) for v in manifest.entities.values()), body

    count, body = run(work)
    try:
        output.write_bytes(body)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")
    console.print(f"exported {len(campaign_ids)} campaign(s), {count} entities to {output}")
    typer.echo(str(output))


def import_campaigns(
    file: Path = typer.Argument(
        ...,
        help="An export ZIP (ours, or a Mautic 7 campaign export).",
        exists=True,
        dir_okay=False,
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Only analyse: list each entity as new, identical or conflicting."
    ),
    choice: list[str] = typer.Option(
        [], "--choice", help="UUID=create|update|copy|reuse for one entity (repeatable)."
    ),
) -> None:
    """Import an export file (campaigns stay unpublished).

    One transaction; prints the analysis (--dry-run) or the result as JSON on the last line."""
    from trellis.actor import Actor
    from trellis.domains.portability.manifest import read_archive
    from trellis.domains.portability.service import portability_service

    choices: dict[str, str] = {}
    for item in choice:
        uuid, _, value = item.partition("=")
        if value not in ("create", "update", "copy", "reuse"):
            fail(f"--choice must be UUID=create|update|copy|reuse, not {item!r}")
        choices[uuid.strip()] = value
    current = settings()
    clock = clock_from(None)
    try:
        data = file.read_bytes()
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror or exc}")

    async def work() -> str:
        actor = Actor.system("cli")
        async with application(current, clock) as trellis:
            # Reading a Mautic archive translates its events through the wired catalogue.
            archive = read_archive(data)
            for note in archive.notes:
                console.print(
                    f"not translated from Mautic: {note['path']}  {note['name']}: "
                    f"{note['message']}",
                    highlight=False,
                    markup=False,
                )
            database = trellis.database
            if dry_run:
                async with database.unit_of_work(read_only=True) as session:
                    analysis = await portability_service.analyse(session, archive, actor=actor)
                for entity in analysis.entities:
                    console.print(
                        f"{entity.kind:<13} {entity.status:<12} {entity.default:<7} "
                        f"{entity.uuid}  {entity.name}",
                        highlight=False,
                    )
                return analysis.model_dump_json()
            async with database.unit_of_work() as session:
                result = await portability_service.apply(
                    session,
                    archive,
                    choices=choices,  # type: ignore[arg-type]
                    filename=file.name,
                    actor=actor,
                    now=clock.now(),
                )
            console.print(
                f"import {result.import_id}: created "
                f"{sum(len(v) for v in result.created.values())}, updated "
                f"{sum(len(v) for v in result.updated.values())}, reused "
                f"{sum(len(v) for v in result.reused.values())}; campaigns {result.campaign_ids} "
                "(unpublished)"
            )
            return result.model_dump_json()

    typer.echo(run(work))
