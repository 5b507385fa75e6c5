"""What every command shares: settings, the database, the clock, and clean failures."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console

from trellis.clock import Clock, FixedClock, SystemClock, parse_instant
from trellis.db.session import Database, create_engine
from trellis.errors import DomainError
from trellis.settings import Settings, get_settings

T = TypeVar("T")

console = Console(stderr=True)


def fail(message: str, code: int = 1) -> NoReturn:
    console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def settings() -> Settings:
    current = get_settings()
    current.ensure_dirs()
    return current


def open_database(current: Settings) -> Database:
    return Database(
        create_engine(
            current.database_url,
            echo=current.database.echo,
            pool_size=current.database.pool_size,
            sqlite_busy_timeout_ms=current.database.sqlite_busy_timeout_ms,
        )
    )


def clock_from(now: str | None) -> Clock:
    if now is None:
        return SystemClock()
    try:
        return FixedClock(parse_instant(now))
    except ValueError:
        fail(f"--now must be an ISO 8601 time such as 2026-01-31T09:00:00Z, not {now!r}")


def run(work: Callable[[], Awaitable[T]]) -> T:
    """Run a command's async body; domain and database errors become one-line failures."""
    try:
        return asyncio.run(_guarded(work))
    except DomainError as exc:
        details = "; ".join(
            f"{e.pointer or e.parameter or ''} {e.detail}".strip() for e in exc.errors
        )
        fail(f"{exc.detail}{' (' + details + ')' if details else ''}")
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        fail(f"{'--' + where + ': ' if where else ''}{first['msg']}")
    except OSError as exc:
        fail(str(exc))


async def _guarded(work: Callable[[], Awaitable[T]]) -> T:
    try:
        return await work()
    except DomainError:
        raise
    except Exception as exc:
        if _is_database_error(exc):
            raise OSError(f"database error: {_first_line(exc)}") from exc
        raise


def _is_database_error(exc: BaseException) -> bool:
    from sqlalchemy.exc import SQLAlchemyError

    return isinstance(exc, SQLAlchemyError | ConnectionError)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
