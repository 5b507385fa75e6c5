"""`trellis` with one of Trellis's own implementations swapped back for the maintained one, so
a benchmark can measure what the own one buys a user, same machine, same run.

    BENCH_VARIANT=aiosqlite uv run python benchmarks/form_submissions.py

``serve_command`` in decision_latency.py (used by every HTTP benchmark) starts the server
through this file when ``BENCH_VARIANT`` is set:

- ``aiosqlite``: SQLAlchemy's own aiosqlite adapter instead of ``trellis.db.sqlite_driver``
  (ADR 0008); ``run_inline`` then changes nothing.

(Commit d4f3906 also had ``starlette-router``, FastAPI's routing in place of the path index
of ADR 0011; ADR 0022 made that the only routing.)
"""

from __future__ import annotations

import sqlite3
import sys
from typing import Any

VARIANTS = ("aiosqlite",)


def apply(variant: str) -> None:
    if variant == "aiosqlite":
        import aiosqlite
        from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi

        from trellis.db import sqlite_driver

        def stock() -> Any:
            return AsyncAdapt_aiosqlite_dbapi(aiosqlite, sqlite3)

        sqlite_driver.dbapi = stock  # type: ignore[assignment]
    else:
        raise SystemExit(f"BENCH_VARIANT must be one of {VARIANTS}, not {variant!r}")


if __name__ == "__main__":
    apply(sys.argv.pop(1))
    from trellis.cli.main import app

    app()
