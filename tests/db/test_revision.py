"""`serve` skips Alembic only when the database is known to be at the head revision."""

from __future__ import annotations

from pathlib import Path

from tests.fixtures.database import DatabaseUnderTest
from trellis.db import migrate
from trellis.db.revision import at_head, head_revision


def test_the_head_read_from_the_files_is_alembics() -> None:
    assert [head_revision()] == migrate.heads()


def test_a_migrated_database_is_at_head(test_database: DatabaseUnderTest) -> None:
    assert at_head(test_database.url)


def test_a_new_database_is_not(tmp_path: Path) -> None:
    assert not at_head(f"sqlite:///{tmp_path / 'missing.db'}")


def test_two_heads_are_not_a_head(tmp_path: Path) -> None:
    for name, revision, down in (("a", "0001", None), ("b", "0002", "0001"), ("c", "0003", "0001")):
        (tmp_path / f"{name}.py").write_text(
            f'revision: str = "{revision}"\ndown_revision: str | None = {down!r}\n'
        )
    assert head_revision(tmp_path) is None
    (tmp_path / "c.py").write_text('revision: str = "0003"\ndown_revision: str | None = "0002"\n')
    assert head_revision(tmp_path) == "0003"
