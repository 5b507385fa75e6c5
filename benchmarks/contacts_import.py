"""Import N contacts from a generated CSV into a fresh database; print the figures.

    uv run python benchmarks/contacts_import.py --rows 1000000
    uv run python benchmarks/contacts_import.py --rows 1000000 --db postgresql://postgres@127.0.0.1:5432/postgres

The CSV has seven columns (email, first and last name, company, city, country, phone) and one
deliberately bad row in every thousand (an invalid email or country), which are reported and
skipped. It is imported through the same code path as ``trellis contacts import``: one
transaction per batch, progress recorded, an error report written. Progress goes to stderr;
the last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import random
import tempfile
import time
from pathlib import Path

from _common import emit, fresh_database, is_postgres, log, peak_rss_mb, wired

from trellis.actor import Actor
from trellis.clock import SystemClock
from trellis.db import migrate
from trellis.domains.imports.schemas import ImportOptions
from trellis.domains.imports.service import Tallies, import_service
from trellis.domains.imports.tasks import process

FIRST = ["Ann", "Bob", "Chloé", "Dmitri", "Eve", "Farid", "Grace", "Hiro", "Inès", "José"]
LAST = ["Lee", "Martin", "Nguyen", "O'Brien", "Schmidt", "Rossi", "Kowalski", "Silva"]
CITIES = ["Paris", "Berlin", "Lisbon", "Oslo", "Austin", "Kyoto", "Lagos", "Lima"]
COUNTRIES = ["FR", "DE", "PT", "NO", "US", "JP", "NG", "PE"]


def generate(path: Path, rows: int, seed: int = 7) -> int:
    """Write the CSV; returns how many rows are deliberately bad."""
    rng = random.Random(seed)
    bad = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Email", "First name", "Last name", "Company", "City", "Country", "Phone"])
        for i in range(rows):
            k = rng.randrange(8)
            email = f"contact{i}@example{i % 97}.com"
            country = COUNTRIES[k]
            if i % 1000 == 999:
                bad += 1
                if i % 2000 == 1999:
                    email = f"contact{i}.example.com"
                else:
                    country = "XX"
            writer.writerow(
                [
                    email,
                    FIRST[i % len(FIRST)],
                    LAST[k],
                    f"Company {i % 5000}",
                    CITIES[k],
                    country,
                    f"+33 6 {i % 100:02d} {i % 97:02d} {i % 89:02d} {i % 83:02d}",
                ]
            )
    return bad


async def run(url: str, csv_path: Path, errors_file: Path) -> tuple[Tallies, float]:
    await migrate.upgrade(url)
    clock = SystemClock()
    actor = Actor.system("benchmark")
    async with wired(url) as application:
        database = application.database
        started = time.perf_counter()
        async with database.unit_of_work() as session:
            _, plan = await import_service.create(
                session,
                path=csv_path,
                filename=csv_path.name,
                options=ImportOptions(),
                errors_file=errors_file,
                actor=actor,
                now=clock.now(),
                enqueue=False,
            )
        last = [0.0]

        def progress(tallies: Tallies) -> None:
            now = time.perf_counter()
            if now - last[0] >= 2.0:
                last[0] = now
                share = tallies.bytes_read / tallies.size_bytes if tallies.size_bytes else 1
                log(
                    f"  {share:6.1%}  {tallies.rows_read:>10,} rows  "
                    f"{tallies.rows_read / (now - started):>10,.0f} rows/s"
                )

        tallies = await process(database, plan, clock=clock, on_progress=progress)
        return tallies, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--db", help="a postgresql:// server URL (default: a temporary SQLite)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="trellis-bench-") as tmp:
        folder = Path(tmp)
        csv_path = folder / "contacts.csv"
        log(f"generating {args.rows:,} rows ...")
        bad = generate(csv_path, args.rows)
        log(f"  {csv_path.stat().st_size / 1e6:,.1f} MB, {bad:,} bad rows")
        with fresh_database(args.db, prefix="import") as url:
            dialect = "postgresql" if is_postgres(url) else "sqlite"
            log(f"importing into {dialect} ...")
            tallies, seconds = asyncio.run(run(url, csv_path, folder / "errors.csv"))
        log(
            f"{tallies.rows_read:,} rows: {tallies.created:,} created, {tallies.updated:,} "
            f"updated, {tallies.failed:,} failed in {seconds:.1f} s"
        )
        emit(
            {
                "benchmark": "contacts_import",
                "db": dialect,
                "n": args.rows,
                "seconds": round(seconds, 2),
                "per_second": round(args.rows / seconds, 1),
                "peak_rss_mb": peak_rss_mb(),
                "created": tallies.created,
                "failed": tallies.failed,
                "errors_reported": tallies.error_count,
                "file_mb": round(csv_path.stat().st_size / 1e6, 1),
            }
        )


if __name__ == "__main__":
    main()
