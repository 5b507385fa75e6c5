"""Files Trellis keeps in its data directory are for its own user only.

The database, uploads, assets, logs and the secret key hold contacts' data and credentials.
Created with the process's umask (022 on most systems) they would be readable by every local
account, so every such file is created 0600 and every such folder 0700, whatever the umask.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from pathlib import Path
from typing import IO, Any

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """``path`` and its missing parents, created 0700 (folders that exist are left as they
    are: a data directory the administrator made keeps the mode they gave it)."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=DIR_MODE)
        # mkdir's mode passes through the umask; a restrictive one is fine, a lax one is not.
        folder.chmod(DIR_MODE)
    return path


def private_opener(path: str, flags: int) -> int:
    """An ``opener`` for :func:`open` that creates the file 0600."""
    descriptor = os.open(path, flags, FILE_MODE)
    # A file that already existed keeps its mode through os.open; make it private too.
    os.fchmod(descriptor, FILE_MODE)
    return descriptor


def open_private(path: Path, mode: str = "wb", **kwargs: Any) -> IO[Any]:
    """:func:`open` for writing a private file (created or truncated 0600)."""
    return open(path, mode, opener=private_opener, **kwargs)


def create_private_empty(path: Path) -> None:
    """An empty 0600 file at ``path`` unless something is there already (SQLite then uses
    it as a new database, and gives its -wal and -shm files the same mode)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))


def copy_private(source: Path, target: Path) -> None:
    with source.open("rb") as reader, open_private(target) as writer:
        shutil.copyfileobj(reader, writer)


def read_or_create_secret(path: Path, *, nbytes: int = 48) -> str:
    """The secret in ``path``, created on first use so that every process sees the same one.

    The new secret is written in full to a private temporary file, then linked into place;
    the link fails when another process got there first, and its secret is read instead.
    So no process ever reads a half-written or empty key, and two processes starting at once
    agree on one.
    """
    with contextlib.suppress(FileNotFoundError):
        return _existing_secret(path)
    private_dir(path.parent)
    secret = secrets.token_urlsafe(nbytes)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        with open_private(temporary, "w", encoding="ascii") as handle:
            handle.write(secret + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return _existing_secret(path)
    finally:
        temporary.unlink(missing_ok=True)
    return secret


def _existing_secret(path: Path) -> str:
    secret = path.read_text().strip()
    if not secret:
        # Only an older version, stopped between creating the file and writing it, leaves
        # it empty. Signing with an empty key would be worse than not starting.
        raise RuntimeError(f"{path} is empty; delete it and start again to generate a new key.")
    return secret
