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
