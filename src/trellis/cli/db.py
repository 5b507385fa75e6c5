from __future__ import annotations

import typer

from trellis.cli.common import console, run, settings

app = typer.Typer(
    help="Database schema: apply and inspect migrations.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@app.command()
def upgrade(revision: str = typer.Option("head", help="Target revision.")) -> None:
    """Apply migrations up to REVISION (the latest by default)."""
    from trellis.db import migrate

    current = settings(require_database=False)
    run(lambda: migrate.upgrade(current.database_url, revision))
    console.print(f"database at {revision}: {_safe_url(current.database_url)}")


@app.command()
def downgrade(
    revision: str = typer.Argument(..., help="Target revision, e.g. -1 or base."),
) -> None:
    """Revert migrations down to REVISION."""
    from trellis.db import migrate

    current = settings()
    run(lambda: migrate.downgrade(current.database_url, revision))
    console.print(f"database at {revision}")


@app.command()
def current() -> None:
    """Print the revision the database is at."""
    from trellis.db import migrate

    active = settings(require_database=False)
    if active.missing_sqlite_database() is not None:
        typer.echo("(no database)")
        return
    revision = run(lambda: migrate.current_revision(active.database_url))
    typer.echo(revision or "(empty database)")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
