from __future__ import annotations

import typer

from trellis.cli.common import application, clock_from, console, fail, run, settings

app = typer.Typer(help="Manage users.", no_args_is_help=True, rich_markup_mode=None)


@app.command()
def create(
    email: str = typer.Option(..., "--email", help="Sign-in email address."),
    password: str = typer.Option(
        ..., "--password", prompt=True, hide_input=True, confirmation_prompt=True
    ),
    name: str = typer.Option("", "--name", help="Display name."),
    role: str = typer.Option("Administrator", "--role", help="Role name."),
) -> None:
    """Create a user (the first one can be made this way instead of the setup page)."""
    from trellis.actor import Actor
    from trellis.domains.users.schemas import UserCreate
    from trellis.domains.users.service import role_service, user_service

    current = settings()
    clock = clock_from(None)

    async def work() -> int:
        async with (
            application(current, clock) as trellis,
            trellis.database.unit_of_work() as session,
        ):
            now = clock.now()
            await role_service.ensure_builtin(session, now=now)
            found = await role_service.by_name(session, role)
            if found is None:
                fail(f"no role named {role!r}")
            user = await user_service.create(
                session,
                data=UserCreate(email=email, name=name, password=password, role_id=found.id),
                actor=Actor.system("cli"),
                now=now,
            )
            return user.id

    user_id = run(work)
    console.print(f"created user {email} (id {user_id}) with role {role}")
