from __future__ import annotations

import typer

from trellis.cli.common import console, run, settings
from trellis.db import migrate

app = typer.Typer(help="Database schema: apply and inspect migrations.", no_args_is_help=True)


@app.command()
def upgrade(revision: str = typer.Option("head", help="Target revision.")) -> None:
    """Apply migrations up to REVISION (the latest by default)."""
    current = settings()
    run(lambda: migrate.upgrade(current.database_url, revision))
    console.print(f"database at {revision}: {_safe_url(current.database_url)}")


@app.command()
def downgrade(
    revision: str = typer.Argument(..., help="Target revision, e.g. -1 or base."),
) -> None:
    """Revert migrations down to REVISION."""
    current = settings()
    run(lambda: migrate.downgrade(current.database_url, revision))
    console.print(f"database at {revision}")


@app.command()
def current() -> None:
    """Print the revision the database is at."""
    active = settings()
    revision = run(lambda: migrate.current_revision(active.database_url))
    typer.echo(revision or "(empty database)")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
