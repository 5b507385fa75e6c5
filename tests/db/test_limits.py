"""statement_time_limit: a statement past the limit is cancelled (PostgreSQL) or interrupted
(SQLite), and the caller gets QueryTimedOut."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from trellis.db.limits import statement_time_limit
from trellis.db.session import Database
from trellis.errors import QueryTimedOut

# Many seconds of work on either database, whatever the machine.
SLOW = {
    "postgresql": "SELECT pg_sleep(30)",
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
    "WHERE x < 1000000000) SELECT count(*) FROM c",
}


async def _run_slow(database: Database) -> None:
    async with (
        database.unit_of_work(read_only=True) as session,
        statement_time_limit(session, 0.2, what="Counting"),
    ):
        await session.execute(text(SLOW[database.dialect]))


async def test_a_slow_statement_is_stopped(database: Database) -> None:
    with pytest.raises(QueryTimedOut, match=r"Counting took longer than 0\.2 s"):
        await _run_slow(database)
    async with database.unit_of_work(read_only=True) as session:
        async with statement_time_limit(session, 5, what="Counting"):
            assert await session.scalar(text("SELECT 1")) == 1
        # Past the block, the limit is lifted.
        if database.dialect == "postgresql":
            assert await session.scalar(text("SHOW statement_timeout")) == "0"
