from __future__ import annotations

import typer

app = typer.Typer(help="Segments: rebuild memberships.", no_args_is_help=True)
