"""One read-only query straight through the driver, without SQLAlchemy.

For commands run from cron that usually find nothing to do: importing SQLAlchemy, the models
and the services costs a command far more than its query, so a cheap question is asked first
("is anything due?") and the full application is built only when the answer is yes.

Parameters are written ``:name`` in the SQL text; aware datetimes are bound the way the
portable column type stores them (naive UTC text on SQLite, ``timestamptz`` on PostgreSQL).
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from trellis.db.urls import normalise_database_url, sqlite_file

_PARAMETER = re.compile(r"(?<!:):([A-Za-z_][A-Za-z0-9_]*)")
# SQLAlchemy's SQLite DATETIME storage format (naive UTC, always with microseconds).
_SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"


def fetch_one(url: str, sql: str, parameters: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """The first row of ``sql`` on the database at ``url`` (a Trellis database URL)."""
    normalised = normalise_database_url(url)
    if normalised.startswith("sqlite"):
        return _sqlite_fetch_one(normalised, sql, parameters)
    if normalised.startswith("postgresql+asyncpg://"):
        return asyncio.run(_postgresql_fetch_one(normalised, sql, parameters))
    raise ValueError(f"no quick path for the database URL scheme of {url.split(':', 1)[0]!r}")


def _sqlite_fetch_one(url: str, sql: str, parameters: Mapping[str, Any]) -> tuple[Any, ...] | None:
    path = sqlite_file(url)
    if path is None:
        raise ValueError("an in-memory SQLite database has nothing to read from another process")
    bound = {
        name: value.astimezone(UTC).strftime(_SQLITE_DATETIME)
        if isinstance(value, datetime)
        else value
        for name, value in parameters.items()
    }
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        row = connection.execute(sql, bound).fetchone()
    finally:
        connection.close()
    return tuple(row) if row is not None else None


async def _postgresql_fetch_one(
    url: str, sql: str, parameters: Mapping[str, Any]
) -> tuple[Any, ...] | None:
    import asyncpg  # the driver alone; SQLAlchemy's dialect is what this path avoids

    numbered: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        numbered.setdefault(name, len(numbered) + 1)
        return f"${numbered[name]}"

    text = _PARAMETER.sub(number, sql)
    values = [parameters[name] for name in sorted(numbered, key=numbered.__getitem__)]
    connection = await asyncpg.connect(
        "postgresql://" + url.removeprefix("postgresql+asyncpg://"), timeout=30
    )
    try:
        row = await connection.fetchrow(text, *values)
    finally:
        await connection.close()
    return tuple(row) if row is not None else None
