"""Database URL handling: the URLs people write, mapped to the async driver of each dialect."""

from __future__ import annotations


def normalise_database_url(url: str) -> str:
    for plain, async_prefix in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite:///", "sqlite+aiosqlite:///"),
    ):
        if url.startswith(plain):
            return async_prefix + url[len(plain) :]
    return url


def sqlite_file(url: str) -> str | None:
    """The file of an SQLite URL (None for another database or an in-memory one)."""
    normalised = normalise_database_url(url)
    prefix = "sqlite+aiosqlite:///"
    if not normalised.startswith(prefix):
        return None
    path = normalised[len(prefix) :].split("?", 1)[0]
    return None if path in ("", ":memory:") else path
