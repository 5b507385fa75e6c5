"""What every command shares: settings, the application, the clock, and clean failures.

Only typer and the standard library are imported at the top of the CLI's modules: ``trellis
--help`` and a command's own start-up should not pay for SQLAlchemy, FastAPI or the domains
it does not use. Each command imports what it needs when it runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, NoReturn, TypeVar

import typer

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from rich.console import Console

    from trellis.bootstrap import Application
    from trellis.clock import Clock
    from trellis.settings import Settings

T = TypeVar("T")


class _LazyConsole:
    """rich's console on stderr, imported on first use (rich costs a tenth of a second)."""

    _console: Console | None = None

    @classmethod
    def _real(cls) -> Console:
        if cls._console is None:
            from rich.console import Console

            cls._console = Console(stderr=True)
        return cls._console

    def __getattr__(self, name: str) -> object:
        return getattr(self._real(), name)

    def __enter__(self) -> Console:
        return self._real().__enter__()

    def __exit__(self, *exc: object) -> None:
        self._real().__exit__(*exc)


console: Console = _LazyConsole()  # type: ignore[assignment]


def fail(message: str, code: int = 1) -> NoReturn:
    console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def settings(*, require_database: bool = True) -> Settings:
    """The settings from the environment. Unless ``require_database`` is off (commands that
    create the database), an embedded database must exist already: a command pointed at the
    wrong data directory refuses instead of working on a new, empty database."""
    from pydantic import ValidationError

    from trellis.settings import get_settings

    try:
        current = get_settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        fail(f"configuration {where}: {first['msg']}")
    current.ensure_dirs()
    if require_database:
        missing = current.missing_sqlite_database()
        if missing is not None:
            fail(
                f"no database at {missing}: run `trellis db upgrade` (or `trellis serve`) "
                "first, or set TRELLIS_DATA_DIR / TRELLIS_DATABASE__URL to the right place"
            )
    return current


def application(
    current: Settings, clock: Clock | None = None
) -> AbstractAsyncContextManager[Application]:
    """The application every command works with, built by the composition root."""
    from trellis.bootstrap import running

    return running(current, clock=clock)


def clock_from(now: str | None) -> Clock:
    from trellis.clock import FixedClock, SystemClock, parse_instant

    if now is None:
        return SystemClock()
    try:
        return FixedClock(parse_instant(now))
    except ValueError:
        fail(f"--now must be an ISO 8601 time such as 2026-01-31T09:00:00Z, not {now!r}")


def run(work: Callable[[], Awaitable[T]]) -> T:
    """Run a command's async body; domain and database errors become one-line failures."""
    from pydantic import ValidationError

    from trellis.errors import DomainError

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
    from trellis.errors import DomainError

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
