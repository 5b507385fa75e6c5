"""`trellis` with one of Trellis's own implementations swapped back for the maintained one, so
a benchmark can measure what the own one buys a user, same machine, same run.

    BENCH_VARIANT=aiosqlite uv run python benchmarks/form_submissions.py
    BENCH_VARIANT=starlette-router uv run python benchmarks/tracking_hits.py

``serve_command`` in decision_latency.py (used by every HTTP benchmark) starts the server
through this file when ``BENCH_VARIANT`` is set:

- ``aiosqlite``: SQLAlchemy's own aiosqlite adapter instead of ``trellis.db.sqlite_driver``
  (ADR 0008); ``run_inline`` then changes nothing;
- ``starlette-router``: each domain router included with ``app.include_router`` and no
  ``RouteIndex`` (ADR 0011): FastAPI's and Starlette's routing as they come.
"""

from __future__ import annotations

import sqlite3
import sys
from typing import Any

VARIANTS = ("aiosqlite", "starlette-router")


def apply(variant: str) -> None:
    if variant == "aiosqlite":
        import aiosqlite
        from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi

        from trellis.db import sqlite_driver

        def stock() -> Any:
            return AsyncAdapt_aiosqlite_dbapi(aiosqlite, sqlite3)

        sqlite_driver.dbapi = stock  # type: ignore[assignment]
    elif variant == "starlette-router":
        from fastapi import APIRouter, FastAPI

        from trellis.api import app as app_module

        def include(app: FastAPI, router: APIRouter) -> None:
            app.include_router(router)

        app_module.include_flat = include  # type: ignore[assignment]
        app_module.install_route_index = lambda app: None  # type: ignore[assignment]
    else:
        raise SystemExit(f"BENCH_VARIANT must be one of {VARIANTS}, not {variant!r}")


if __name__ == "__main__":
    apply(sys.argv.pop(1))
    from trellis.cli.main import app

    app()
