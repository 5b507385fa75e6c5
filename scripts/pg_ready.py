"""Exit 0 when the PostgreSQL server at the URL answers, 1 otherwise (used by `make test`)."""

from __future__ import annotations

import asyncio
import sys

import asyncpg


async def main(url: str) -> int:
    try:
        connection = await asyncio.wait_for(asyncpg.connect(url), timeout=5)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return 1
    await connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(
        asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "postgresql://127.0.0.1/postgres"))
    )
