"""The command line as a user runs it: exit codes, one-line failures, a token that works."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.fixtures.cli import Cli
from trellis.api.app import create_app
from trellis.settings import Settings

# Each command is a fresh process, as a user runs it; on a loaded machine a start-up takes
# seconds, so these tests get more than the default time.
pytestmark = pytest.mark.timeout(900)


def test_help_lists_the_commands(cli: Cli) -> None:
    result = cli("--help")
    assert result.exit_code == 0
    for command in ("serve", "db", "users", "tokens"):
        assert command in result.stdout


def test_db_upgrade_is_idempotent(cli: Cli) -> None:
    assert cli("db", "upgrade").exit_code == 0
    current = cli("db", "current")
    assert current.exit_code == 0, current.output
    assert current.stdout.strip() != "(empty database)"


def test_a_token_made_with_the_cli_works_against_the_api(cli: Cli) -> None:
    created = cli(
        "users", "create", "--email", "ops@example.com", "--password", "Long-enough-pass-1"
    )
    assert created.exit_code == 0, created.output
    token = cli("tokens", "create", "--user", "ops@example.com", "--name", "ci")
    assert token.exit_code == 0, token.output
    secret = token.stdout.strip().splitlines()[-1]
    assert secret.startswith("trl_")

    async def call_api() -> httpx.Response:
        settings = Settings(
            data_dir=Path(cli.env["TRELLIS_DATA_DIR"]),
            database={"url": cli.env["TRELLIS_DATABASE__URL"]},  # type: ignore[arg-type]
        )
        app = create_app(settings, run_services=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get(
                "/api/v2/auth/me", headers={"Authorization": f"Bearer {secret}"}
            )
        await app.state.database.dispose()
        return response

    me = asyncio.run(call_api())
    assert me.status_code == 200
    assert me.json()["user"]["email"] == "ops@example.com"


def test_failures_are_one_line_without_traceback(cli: Cli) -> None:
    weak = cli("users", "create", "--email", "x@example.com", "--password", "short")
    assert weak.exit_code == 1
    assert "Traceback" not in weak.output
    assert "password" in weak.output.lower()

    ok = ("users", "create", "--email", "dup@example.com", "--password", "Long-enough-pass-1")
    assert cli(*ok).exit_code == 0
    duplicate = cli(*ok)
    assert duplicate.exit_code == 1
    assert "exists" in duplicate.output
    assert "Traceback" not in duplicate.output

    no_user = cli("tokens", "create", "--user", "ghost@example.com")
    assert no_user.exit_code == 1
    assert "no user" in no_user.output

    bad_role = cli(
        "users",
        "create",
        "--email",
        "r@example.com",
        "--password",
        "Long-enough-pass-1",
        "--role",
        "Wizard",
    )
    assert bad_role.exit_code == 1
    assert "Wizard" in bad_role.output


def test_unreachable_database_is_a_clear_failure(cli: Cli, tmp_path: Path) -> None:
    result = cli(
        "db",
        "upgrade",
        extra_env={
            "TRELLIS_DATA_DIR": str(tmp_path),
            "TRELLIS_DATABASE__URL": "postgresql://nobody@127.0.0.1:1/nowhere",
        },
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "error" in result.output.lower()
