"""Files in the data directory: private whatever the umask; the secret key made once."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from trellis.files import open_private, private_dir, read_or_create_secret
from trellis.settings import Settings


@pytest.fixture
def lax_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_private_files_and_folders_under_umask_022(tmp_path: Path, lax_umask: None) -> None:
    folder = private_dir(tmp_path / "a" / "b")
    with open_private(folder / "file.csv", "w") as handle:
        handle.write("x")
    assert _mode(tmp_path / "a") == _mode(folder) == 0o700
    assert _mode(folder / "file.csv") == 0o600


def test_settings_make_a_private_data_directory_and_key(tmp_path: Path, lax_umask: None) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    key = settings.secret_key()
    assert len(key) >= 48
    assert settings.secret_key() == key
    for path in (settings.data_dir, settings.uploads_dir, settings.logs_dir):
        assert _mode(path) == 0o700, path
    assert _mode(settings.data_dir / "secret.key") == 0o600


def _start_up(path: Path, barrier: threading.Barrier, seen: list[str]) -> None:
    barrier.wait()
    seen.append(read_or_create_secret(path))


def test_processes_starting_together_agree_on_one_complete_key(tmp_path: Path) -> None:
    for attempt in range(20):
        path = tmp_path / f"round{attempt}" / "secret.key"
        start = threading.Barrier(16)
        seen: list[str] = []

        threads = [threading.Thread(target=_start_up, args=(path, start, seen)) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(seen) == 16
        assert len(set(seen)) == 1, "two processes signed with different keys"
        assert all(seen), "a process read the key before it was written"
        assert [p.name for p in path.parent.iterdir()] == ["secret.key"]


def test_an_empty_key_file_is_refused_rather_than_used(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    settings.ensure_dirs()
    (settings.data_dir / "secret.key").touch()
    with pytest.raises(RuntimeError, match="is empty"):
        settings.secret_key()
