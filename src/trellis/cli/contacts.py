from __future__ import annotations

import typer

app = typer.Typer(help="Contacts: import from CSV.", no_args_is_help=True)
