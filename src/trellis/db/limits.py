"""A time limit on the statements of an interactive request (a count, a preview).

A filter a user is still editing can be expensive; the request that counts it must not hold a
connection (and on SQLite, the database) for long. Within :func:`statement_time_limit`,
PostgreSQL cancels any statement running longer (``SET LOCAL statement_timeout``), and on SQLite
the running statement is interrupted (``sqlite3_interrupt``); either way the caller gets
:class:`trellis.errors.QueryTimedOut`. The transaction is then unusable, which is what the
request's unit of work rolls back.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from trellis.db.dialect import dialect_name
from trellis.errors import QueryTimedOut

QUERY_CANCELED = "57014"


def _timed_out(exc: DBAPIError) -> bool:
    """PostgreSQL's query_canceled, or SQLite's SQLITE_INTERRUPT, as the driver or its
    adapter reports it."""
    for error in (exc.orig, getattr(exc.orig, "__cause__", None)):
        if getattr(error, "sqlstate", None) == QUERY_CANCELED:
            return True
        if getattr(error, "sqlite_errorname", None) == "SQLITE_INTERRUPT":
            return True
    return False


@contextlib.asynccontextmanager
async def statement_time_limit(
    session: AsyncSession, seconds: float, *, what: str
) -> AsyncIterator[None]:
    """Each statement inside (on SQLite: all of them together) runs for at most ``seconds``;
    ``what`` names the work in the error ("Counting the filter's contacts")."""
    milliseconds = max(1, int(seconds * 1000))
    interrupt: asyncio.TimerHandle | None = None
    if dialect_name(session) == "postgresql":
        await session.execute(text(f"SET LOCAL statement_timeout = {milliseconds}"))
    else:
        raw = await (await session.connection()).get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        interrupt = asyncio.get_running_loop().call_later(seconds, driver.interrupt)
    try:
        yield
    except DBAPIError as exc:
        if not _timed_out(exc):
            raise
        raise QueryTimedOut(
            f"{what} took longer than {seconds:g} s and was stopped; narrow or simplify it."
        ) from None
    finally:
        if interrupt is not None:
            interrupt.cancel()
    if dialect_name(session) == "postgresql":
        await session.execute(text("SET LOCAL statement_timeout TO DEFAULT"))
