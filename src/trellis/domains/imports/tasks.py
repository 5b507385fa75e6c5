"""Running an import: the job, and the loop the CLI shares with it.

This is the edge that owns transactions (ADR 0001): the file is read and checked outside any
transaction, and every batch of rows is written in its own unit of work, which commits the
contacts and the progress together. A batch the database refuses as a whole is retried row
by row, so one bad row never costs the rows around it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from trellis.clock import Clock
from trellis.db.session import Database
from trellis.domains.contacts.values import Prepared
from trellis.domains.imports.mapping import CellError
from trellis.domains.imports.reader import CsvStream
from trellis.domains.imports.service import (
    BATCH_ROWS,
    ErrorSink,
    ImportPlan,
    Tallies,
    import_service,
)
from trellis.errors import DomainError
from trellis.jobs.registry import JobContext, job

log = logging.getLogger(__name__)

Progress = Callable[[Tallies], None]


@dataclass
class Batch:
    """Checked rows, with what reading them found: counts and the rows that failed."""

    items: list[Prepared] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    errors: list[CellError] = field(default_factory=list)
    rows_read: int = 0
    invalid: int = 0
    bytes_read: int = 0


def read_batches(plan: ImportPlan, *, batch_rows: int = BATCH_ROWS) -> Generator[Batch, None, None]:
    """Checked rows in batches; every batch also carries the bad rows read with it, and the
    last one may hold no rows at all."""
    stream = CsvStream(plan.path, plan.format)
    convert = plan.converter().convert
    header_seen = False
    batch = Batch()
    for record in stream:
        if not header_seen:
            if record.problem is None and not any(v.strip() for v in record.values):
                continue
            header_seen = True
            continue
        if record.problem is not None:
            batch.rows_read += 1
            batch.invalid += 1
            batch.errors.append(CellError(record.line, "", record.problem))
            continue
        result = convert(record.line, record.values)
        if result is None:
            continue
        batch.rows_read += 1
        if isinstance(result, list):
            batch.invalid += 1
            batch.errors.extend(result)
            continue
        batch.items.append(result)
        batch.lines.append(record.line)
        if len(batch.items) >= batch_rows:
            batch.bytes_read = stream.bytes_read
            yield batch
            batch = Batch()
    batch.bytes_read = stream.bytes_read
    yield batch


def _count_read(tallies: Tallies, sink: ErrorSink, batch: Batch) -> None:
    tallies.rows_read += batch.rows_read
    tallies.failed += batch.invalid
    tallies.bytes_read = batch.bytes_read
    sink.add(batch.errors)


async def _write(
    database: Database, plan: ImportPlan, batch: Batch, tallies: Tallies, clock: Clock
) -> tuple[list[CellError], dict[str, int]]:
    async with database.unit_of_work() as session:
        return await import_service.apply_batch(
            session,
            plan,
            items=batch.items,
            lines=batch.lines,
            tallies=tallies,
            now=clock.now(),
        )


async def _write_halves(
    database: Database, plan: ImportPlan, batch: Batch, tallies: Tallies, clock: Clock
) -> tuple[list[CellError], dict[str, int]]:
    """Write a batch the database refused whole: in halves, down to the rows it refuses
    alone, so a few bad rows cost a few dozen small transactions, not thousands."""
    try:
        return await _write(database, plan, batch, tallies, clock)
    except DBAPIError as exc:
        if len(batch.items) == 1:
            reason = (str(getattr(exc, "orig", None) or exc).splitlines() or ["?"])[0]
            refused = CellError(batch.lines[0], "", f"The database refused the row: {reason}")
            return [refused], {"failed": 1}
    middle = len(batch.items) // 2
    errors: list[CellError] = []
    totals = {"created": 0, "updated": 0, "unchanged": 0, "failed": 0}
    for start, end in ((0, middle), (middle, len(batch.items))):
        part = Batch(items=batch.items[start:end], lines=batch.lines[start:end])
        found, counts = await _write_halves(database, plan, part, tallies, clock)
        errors.extend(found)
        for key, value in counts.items():
            totals[key] += value
    return errors, totals


async def process(
    database: Database,
    plan: ImportPlan,
    *,
    clock: Clock,
    on_progress: Progress | None = None,
    batch_rows: int = BATCH_ROWS,
) -> Tallies:
    """Read, check and write the whole file; the import row (if any) is finished too."""
    tallies = Tallies(size_bytes=plan.size_bytes)
    failure: str | None = None
    try:
        with ErrorSink(plan.errors_file, tallies) as sink:
            for batch in read_batches(plan, batch_rows=batch_rows):
                _count_read(tallies, sink, batch)
                if not batch.items:
                    continue
                errors, counts = await _write_halves(database, plan, batch, tallies, clock)
                tallies.created += counts.get("created", 0)
                tallies.updated += counts.get("updated", 0)
                tallies.unchanged += counts.get("unchanged", 0)
                tallies.failed += counts.get("failed", 0)
                sink.add(errors)
                if on_progress is not None:
                    on_progress(tallies)
    except (OSError, DomainError, SQLAlchemyError) as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        failure = f"The import stopped: {reason}"
        log.exception("import failed", extra={"import_id": plan.import_id})
    async with database.unit_of_work() as session:
        await import_service.finish(
            session, plan, tallies=tallies, failure=failure, now=clock.now()
        )
    if on_progress is not None:
        on_progress(tallies)
    if failure is not None:
        raise ImportStopped(failure, tallies)
    return tallies


class ImportStopped(RuntimeError):
    def __init__(self, message: str, tallies: Tallies) -> None:
        super().__init__(message)
        self.tallies = tallies


def scan(plan: ImportPlan, *, on_progress: Progress | None = None) -> Tallies:
    """A dry run: read and check every row, write nothing."""
    tallies = Tallies(size_bytes=plan.size_bytes)
    with ErrorSink(plan.errors_file, tallies) as sink:
        for batch in read_batches(plan):
            _count_read(tallies, sink, batch)
            tallies.unchanged += len(batch.items)
            if on_progress is not None:
                on_progress(tallies)
    return tallies


async def run_import(
    database: Database, import_id: int, *, clock: Clock, on_progress: Progress | None = None
) -> Tallies | None:
    """Claim and run one queued import; None when there is nothing to run."""
    try:
        async with database.unit_of_work() as session:
            plan = await import_service.start(session, import_id, now=clock.now())
    except DomainError as exc:
        if exc.status_code == 404:
            return None
        async with database.unit_of_work() as session:
            await import_service.fail(session, import_id, message=exc.detail, now=clock.now())
        return None
    try:
        return await process(database, plan, clock=clock, on_progress=on_progress)
    except ImportStopped:
        return None


@job("imports.run", max_retries=0)
async def run_import_job(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Run a queued CSV import in the background (``{"import_id": N}``)."""
    await run_import(ctx.database, int(payload["import_id"]), clock=ctx.clock)
