"""CPU and wall time per statement through SQLAlchemy: aiosqlite against Trellis's SQLite driver.

    uv run python benchmarks/sqlite_driver.py [--statements N]

One connection each, on a temporary SQLite file; N times a one-row ``SELECT`` (the shape of
most statements the engine and the API run) and N one-row ``INSERT``s in a transaction. The
statement itself takes microseconds in SQLite, so the figures are the cost of reaching it
from asyncio (ADR 0008): through aiosqlite, through Trellis's driver, and through it within
``run_inline`` (the hot paths' brief transactions). The last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import emit, log
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from trellis.db import sqlite_driver
from trellis.db.session import create_engine


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def measure(engine: AsyncEngine, n: int, *, inline: bool) -> dict[str, float]:
    figures: dict[str, float] = {}
    async with engine.connect() as conn:
        await conn.execute(text("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)"))
        await conn.commit()
        for label, statement in (
            ("select", text("SELECT :v").bindparams(v=1)),
            ("insert", text("INSERT INTO t (v) VALUES ('x')")),
        ):
            cpu, wall = cpu_seconds(), time.perf_counter()
            with sqlite_driver.run_inline() if inline else contextlib.nullcontext():
                for _ in range(n):
                    result = await conn.execute(statement)
                    if label == "select":
                        result.all()
                await conn.commit()
            figures[f"{label}_cpu_us"] = round((cpu_seconds() - cpu) / n * 1e6, 1)
            figures[f"{label}_wall_us"] = round((time.perf_counter() - wall) / n * 1e6, 1)
    await engine.dispose()
    return figures


async def run(n: int) -> dict[str, Any]:
    directory = Path(tempfile.mkdtemp(prefix="trellis-driver-"))
    results: dict[str, Any] = {"benchmark": "sqlite_driver", "db": "sqlite", "n": n}
    for name, engine, inline in (
        ("aiosqlite", create_async_engine(f"sqlite+aiosqlite:///{directory / 'a.db'}"), False),
        ("trellis", create_engine(f"sqlite+aiosqlite:///{directory / 'b.db'}"), False),
        ("trellis_inline", create_engine(f"sqlite+aiosqlite:///{directory / 'c.db'}"), True),
    ):
        figures = await measure(engine, n, inline=inline)
        log(f"{name}: {figures}")
        results.update({f"{name}_{key}": value for key, value in figures.items()})
    results["ok"] = True
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--statements", type=int, default=5000)
    emit(asyncio.run(run(parser.parse_args().statements)))


if __name__ == "__main__":
    main()
