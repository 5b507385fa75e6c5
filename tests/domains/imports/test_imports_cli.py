"""``trellis contacts import`` as a user runs it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.domains.imports.conftest import broken_csv
from tests.fixtures.cli import run_trellis
from tests.fixtures.database import DatabaseUnderTest
from trellis.db.models import Contact, ContactImport
from trellis.db.session import Database, create_engine
from trellis.settings import get_settings

# Each command is a fresh process, as a user runs it; on a loaded machine a start-up takes
# seconds, so these tests get more than the default time.
pytestmark = pytest.mark.timeout(900)


@pytest.fixture
def cli_env(
    tmp_path: Path, test_database: DatabaseUnderTest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    monkeypatch.setenv("TRELLIS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TRELLIS_DATABASE__URL", test_database.url)
    get_settings.cache_clear()
    yield test_database.url
    get_settings.cache_clear()


def counts(url: str) -> tuple[int, int]:
    async def read() -> tuple[int, int]:
        database = Database(create_engine(url, pooled=False))
        try:
            async with database.unit_of_work(read_only=True) as session:
                contacts = await session.scalar(select(func.count()).select_from(Contact))
                imports = await session.scalar(select(func.count()).select_from(ContactImport))
                return int(contacts or 0), int(imports or 0)
        finally:
            await database.dispose()

    return asyncio.run(read())


def test_ten_thousand_rows_with_broken_ones(cli_env: str, tmp_path: Path) -> None:
    made = broken_csv(tmp_path / "big.csv")
    result = run_trellis(["contacts", "import", str(made.path), "--tag", "cli"])
    assert result.exit_code == 0, result.output
    # No "Lead score" field exists here: that column is ignored, so its bad cells are too.
    bad = {line for line, column in made.bad_lines.items() if column != "Lead score"}
    good = made.rows - len(bad)
    assert f"{good:,} created, 1 updated, 0 unchanged, {len(bad):,} failed" in result.stdout
    for line in sorted(bad)[:5]:
        assert f"line {line}" in result.output
    assert counts(cli_env) == (good, 1)
    report = next((tmp_path / "data" / "uploads" / "imports").glob("cli-*/errors.csv"))
    reported = {int(row.split(",")[0]) for row in report.read_text().splitlines()[1:]}
    assert reported == bad


def test_a_10_mb_line_and_the_rows_around_it(cli_env: str, tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:
        handle.write(b"email,first_name\nbefore@example.com,B\n")
        handle.write(b"huge@example.com," + b"x" * (10 * 1024 * 1024) + b"\n")
        handle.write(b"after@example.com,A\n")
    result = run_trellis(["contacts", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "2 created" in result.stdout
    assert "1 failed" in result.stdout
    assert "line 3" in result.output


def test_dry_run_writes_nothing(cli_env: str, tmp_path: Path) -> None:
    path = tmp_path / "few.csv"
    path.write_text("Mail;Name\na@example.com;A\nbad;B\n", encoding="utf-8")
    result = run_trellis(
        ["contacts", "import", str(path), "--dry-run", "--map", "Mail=email", "--map", "Name="]
    )
    assert result.exit_code == 0, result.output
    assert "1 valid, 1 failed" in result.stdout
    assert counts(cli_env) == (0, 0)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--map", "Nope=email"], "Nope"),
        (["--map", "no equals sign"], "--map"),
        (["--owner", "nobody@example.com"], "--owner"),
        (["--segment", "42"], "segment"),
        (["--delimiter", "#"], "delimiter"),
        (["--encoding", "ebcdic"], "encoding"),
        (["--now", "yesterday-ish"], "--now"),
    ],
)
def test_bad_options_fail_in_one_line_and_write_nothing(
    cli_env: str, tmp_path: Path, arguments: list[str], message: str
) -> None:
    path = tmp_path / "one.csv"
    path.write_text("email\na@example.com\n", encoding="utf-8")
    result = run_trellis(["contacts", "import", str(path), *arguments])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert counts(cli_env) == (0, 0)


def test_a_missing_file_fails_in_one_line(cli_env: str, tmp_path: Path) -> None:
    result = run_trellis(["contacts", "import", str(tmp_path / "nope.csv")])
    assert result.exit_code == 1
    assert "no such file" in result.output
