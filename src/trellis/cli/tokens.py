from __future__ import annotations

from datetime import timedelta

import typer

from trellis.actor import Actor
from trellis.cli.common import clock_from, console, fail, open_database, run, settings
from trellis.domains.users.schemas import TokenCreate
from trellis.domains.users.service import token_service, user_service

app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)


@app.command()
def create(
    user: str = typer.Option(..., "--user", help="Email of the user the token acts as."),
    name: str = typer.Option("cli", "--name", help="A name to recognise the token by."),
    scope: list[str] = typer.Option(
        [], "--scope", help="Limit the token, e.g. projects:read or *:write. Repeatable."
    ),
    expires_in_days: int | None = typer.Option(None, "--expires-in-days", min=1),
) -> None:
    """Create an API token; the token alone is printed on the last line."""
    from pydantic import ValidationError

    current = settings()
    clock = clock_from(None)
    now = clock.now()
    try:
        data = TokenCreate(
            name=name,
            scopes=scope,
            expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
        )
    except ValidationError as exc:
        fail(exc.errors()[0]["msg"])

    async def work() -> str:
        database = open_database(current)
        try:
            async with database.unit_of_work() as session:
                owner = await user_service.find_by_email(session, user)
                if owner is None:
                    fail(f"no user with the email {user}")
                _, secret = await token_service.create(
                    session, data=data, actor=Actor.system("cli"), now=now, for_user_id=owner.id
                )
                return secret
        finally:
            await database.dispose()

    secret = run(work)
    console.print(f"token {name!r} for {user}; it is shown once:")
    typer.echo(secret)
