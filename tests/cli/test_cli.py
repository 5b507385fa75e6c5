"""The command line as a user runs it: exit codes, one-line failures, a token that works."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tests.fixtures.database import DatabaseUnderTest
from trellis.api.app import create_app
from trellis.cli.main import app as cli
from trellis.settings import get_settings

runner = CliRunner()


@pytest.fixture
def cli_env(
    tmp_path: Path, test_database: DatabaseUnderTest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    env = {"TRELLIS_DATA_DIR": str(tmp_path / "data"), "TRELLIS_DATABASE__URL": test_database.url}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield env
    get_settings.cache_clear()


def test_help_lists_the_commands() -> None:
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "db", "users", "tokens"):
        assert command in result.output


def test_db_upgrade_is_idempotent(cli_env: dict[str, str]) -> None:
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    current = runner.invoke(cli, ["db", "current"])
    assert current.exit_code == 0
    assert current.output.strip() != "(empty database)"


def test_a_token_made_with_the_cli_works_against_the_api(cli_env: dict[str, str]) -> None:
    created = runner.invoke(
        cli,
        ["users", "create", "--email", "ops@example.com", "--password", "Long-enough-pass-1"],
    )
    assert created.exit_code == 0, created.output
    token = runner.invoke(cli, ["tokens", "create", "--user", "ops@example.com", "--name", "ci"])
    assert token.exit_code == 0, token.output
    secret = token.stdout.strip().splitlines()[-1]
    assert secret.startswith("trl_")

    async def call_api() -> httpx.Response:
        app = create_app(get_settings(), run_services=False)
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


def test_failures_are_one_line_without_traceback(cli_env: dict[str, str]) -> None:
    weak = runner.invoke(
        cli, ["users", "create", "--email", "x@example.com", "--password", "short"]
    )
    assert weak.exit_code == 1
    assert "Traceback" not in weak.output
    assert "password" in weak.output.lower()

    ok = ["users", "create", "--email", "dup@example.com", "--password", "Long-enough-pass-1"]
    assert runner.invoke(cli, ok).exit_code == 0
    duplicate = runner.invoke(cli, ok)
    assert duplicate.exit_code == 1
    assert "exists" in duplicate.output
    assert "Traceback" not in duplicate.output

    no_user = runner.invoke(cli, ["tokens", "create", "--user", "ghost@example.com"])
    assert no_user.exit_code == 1
    assert "no user" in no_user.output

    bad_role = runner.invoke(
        cli,
        [
            "users",
            "create",
            "--email",
            "r@example.com",
            "--password",
            "Long-enough-pass-1",
            "--role",
            "Wizard",
        ],
    )
    assert bad_role.exit_code == 1
    assert "Wizard" in bad_role.output


def test_unreachable_database_is_a_clear_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRELLIS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TRELLIS_DATABASE__URL", "postgresql://nobody@127.0.0.1:1/nowhere")
    get_settings.cache_clear()
    try:
        result = runner.invoke(cli, ["db", "upgrade"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "error" in result.output.lower()
