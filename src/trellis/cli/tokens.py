from __future__ import annotations

from datetime import timedelta

import typer

from trellis.cli.common import application, clock_from, console, fail, run, settings

app = typer.Typer(help="Manage API tokens.", no_args_is_help=True, rich_markup_mode=None)


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

    from trellis.actor import Actor
    from trellis.domains.users.schemas import TokenCreate
    from trellis.domains.users.service import token_service, user_service

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
        async with (
            application(current, clock) as trellis,
            trellis.database.unit_of_work() as session,
        ):
            owner = await user_service.find_by_email(session, user)
            if owner is None:
                fail(f"no user with the email {user}")
            _, secret = await token_service.create(
                session, data=data, actor=Actor.system("cli"), now=now, for_user_id=owner.id
            )
            return secret

    secret = run(work)
    console.print(f"token {name!r} for {user}; it is shown once:")
    typer.echo(secret)
