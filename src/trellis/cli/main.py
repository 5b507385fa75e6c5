"""The ``trellis`` command. Heavy imports stay inside commands so that --help is fast."""

from __future__ import annotations

import typer

from trellis.cli import (
    broadcasts,
    campaigns,
    contacts,
    data,
    db,
    portability,
    segments,
    tokens,
    users,
)
from trellis.cli.serve import serve
from trellis.cli.worker import worker

app = typer.Typer(
    name="trellis",
    help="Trellis: self-hosted marketing-automation campaigns.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # Plain help: rich's help renderer alone costs more start-up than the rest of --help.
    rich_markup_mode=None,
)
app.command("serve")(serve)
app.command("worker")(worker)
app.add_typer(db.app, name="db")
app.add_typer(users.app, name="users")
app.add_typer(tokens.app, name="tokens")
app.add_typer(contacts.app, name="contacts")
app.add_typer(segments.app, name="segments")
campaigns.app.command("export")(portability.export_campaigns)
campaigns.app.command("import")(portability.import_campaigns)
app.add_typer(campaigns.app, name="campaigns")
app.add_typer(broadcasts.app, name="emails")
app.add_typer(data.app, name="data")


@app.command()
def version() -> None:
    """Print the version."""
    from trellis import __version__

    typer.echo(__version__)


if __name__ == "__main__":
    app()
