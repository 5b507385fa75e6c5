"""Shared helpers for the benchmarks (not a benchmark itself: running it does nothing).

- :func:`fresh_database`: a fresh SQLite file in a temporary directory, or a fresh database
  on the PostgreSQL server given by ``--db`` that is dropped afterwards (ARCHITECTURE.md 8).
- :func:`log` (progress on stderr), :func:`emit` (the one JSON object, last line on stdout),
  :func:`peak_rss_mb`, :func:`process_peak_rss_mb` (another process, e.g. a server).
- :func:`storage_bytes`: a table's storage including its indexes (PostgreSQL:
  ``pg_total_relation_size``; SQLite: the ``dbstat`` virtual table, or None without it).
- :func:`sql_now`: a timestamp as the dialect's set-based SQL expects it.
- :class:`HttpConnection` and :func:`steady_load`: the load generators' lean HTTP client.
- :func:`serving`: a `trellis serve` process, stopped afterwards; :func:`server_data` its data
  directory and environment; :func:`report`: the figures emitted, exit 1 on a failed check.
- :func:`wired`: the application built by the composition root (``trellis.bootstrap``) as
  every entry point builds it, for the benchmarks that call the services in this process.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.engine import make_url

from trellis import bootstrap
from trellis.db.session import Database, create_engine
from trellis.db.urls import normalise_database_url
from trellis.settings import DatabaseSettings, Settings

_STARTED = time.perf_counter()
T = TypeVar("T")


def log(message: str) -> None:
    """Progress on stderr, with the time since the benchmark started."""
    print(f"[{time.perf_counter() - _STARTED:7.1f}s] {message}", file=sys.stderr, flush=True)


def peak_rss_mb() -> float:
    """This process's peak resident set size (Linux reports ru_maxrss in KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def process_peak_rss_mb(pid: int) -> float | None:
    """Another live process's peak resident set size (VmHWM), or None where unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError):
        return None
    return None


def emit(figures: dict[str, Any]) -> None:
    """The benchmark's result: one JSON object, the last line on stdout."""
    print(json.dumps(figures), flush=True)


def is_postgres(url: str | None) -> bool:
    return bool(url) and str(url).startswith(("postgres://", "postgresql"))


async def _admin(server_url: str, statement: str) -> None:
    admin = make_url(normalise_database_url(server_url)).set(database="postgres")
    engine = create_engine(admin.render_as_string(hide_password=False), pooled=False)
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


@contextmanager
def fresh_database(db: str | None, *, prefix: str) -> Iterator[str]:
    """Yield the async URL of a fresh, empty database, removed afterwards.

    ``db`` is None (a SQLite file in a temporary directory), a ``postgresql://`` server URL
    (a database named after ``prefix`` is created there and dropped with FORCE at the end),
    or a ``sqlite:///`` file URL, used as given and left in place.
    """
    # A benchmark stopped with SIGTERM (e.g. by `timeout`) still drops its database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if is_postgres(db):
        assert db is not None
        name = f"trellis_bench_{prefix}_{uuid.uuid4().hex[:8]}"
        asyncio.run(_admin(db, f'CREATE DATABASE "{name}"'))
        url = make_url(normalise_database_url(db)).set(database=name)
        log(f"created database {name} on {url.host}:{url.port or 5432}")
        try:
            yield url.render_as_string(hide_password=False)
        finally:
            asyncio.run(_admin(db, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            log(f"dropped database {name}")
    elif db:
        yield normalise_database_url(db)
    else:
        with tempfile.TemporaryDirectory(prefix=f"trellis-bench-{prefix}-") as tmp:
            yield normalise_database_url(f"sqlite:///{Path(tmp) / 'bench.db'}")


def sql_now(database: Database, now: datetime) -> Any:
    """A timestamp parameter for raw SQL: a datetime on PostgreSQL, text on SQLite (the
    format the UTCDateTime type stores)."""
    return now if database.dialect == "postgresql" else now.strftime("%Y-%m-%d %H:%M:%S.%f")


async def storage_bytes(database: Database, table: str) -> int | None:
    """The table's size on disk including its indexes (and TOAST on PostgreSQL)."""
    async with database.engine.connect() as conn:
        if database.dialect == "postgresql":
            value = await conn.scalar(
                text("SELECT pg_total_relation_size(CAST(:t AS regclass))"), {"t": table}
            )
            return int(value or 0)
        try:
            names = list(
                (
                    await conn.execute(
                        text("SELECT name FROM sqlite_master WHERE tbl_name = :t"), {"t": table}
                    )
                ).scalars()
            )
            marks = ", ".join(f":n{i}" for i in range(len(names)))
            value = await conn.scalar(
                text(f"SELECT SUM(pgsize) FROM dbstat WHERE name IN ({marks})"),
                {f"n{i}": name for i, name in enumerate(names)},
            )
        except Exception as exc:  # dbstat is a compile-time option of SQLite
            log(f"no dbstat in this SQLite ({exc.__class__.__name__}); storage not measured")
            return None
        return int(value) if value is not None else None


class HttpConnection:
    """One keep-alive HTTP/1.1 connection on asyncio streams: a request, then its whole
    response. The load generators use it instead of httpx, which spends more CPU per request
    than the server does and, on two cores, starves the server it measures."""

    def __init__(self, host: str, port: int, headers: dict[str, str] | None = None) -> None:
        self.host, self.port = host, port
        self.headers = {"Host": f"{host}:{port}", "User-Agent": "trellis-bench", **(headers or {})}
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        """Send one request; the response's status and body (Content-Length framed)."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        lines = [f"{method} {path} HTTP/1.1"]
        lines += [f"{k}: {v}" for k, v in {**self.headers, **(headers or {})}.items()]
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
        content = await self.reader.readexactly(int(length.group(1))) if length else b""
        if re.search(rb"(?i)\r\nconnection: *close", head):
            self.close()
        return status, content

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def steady_load(
    host: str,
    port: int,
    plan: list[T],
    send: Callable[[HttpConnection, T], Awaitable[str | None]],
    *,
    rate: float,
    connections: int,
    headers: dict[str, str] | None = None,
) -> tuple[list[float], list[str], float, float]:
    """Send the plan at a steady rate over ``connections`` keep-alive connections.

    ``send`` makes one request and returns an error message or None. Returns the latencies
    (seconds), the errors, and the times (perf_counter) of the first and the last request.
    """
    queue: asyncio.Queue[T | None] = asyncio.Queue()
    latencies: list[float] = []
    errors: list[str] = []
    loop = asyncio.get_running_loop()

    async def worker() -> None:
        conn = HttpConnection(host, port, headers)
        try:
            while (item := await queue.get()) is not None:
                started = time.perf_counter()
                try:
                    error = await send(conn, item)
                except (OSError, asyncio.IncompleteReadError) as exc:
                    conn.close()
                    errors.append(repr(exc))
                    continue
                latencies.append(time.perf_counter() - started)
                if error is not None:
                    errors.append(error)
        finally:
            conn.close()

    workers = [asyncio.create_task(worker()) for _ in range(connections)]
    begin = loop.time() + 0.1
    first = time.perf_counter()
    last_report = begin
    for index, item in enumerate(plan):
        delay = begin + index / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait(item)
        if loop.time() - last_report >= 5:
            last_report = loop.time()
            log(f"  {index:,}/{len(plan):,} requests sent, {queue.qsize():,} waiting")
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    return latencies, errors, first, time.perf_counter()


@contextmanager
def serving(
    command: list[str], env: dict[str, str], log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A server process for a benchmark (its output in ``log_path``), interrupted afterwards
    and killed if it does not stop within 30 s."""
    with log_path.open("wb") as log_file:
        server = subprocess.Popen(command, env=env, stdout=log_file, stderr=subprocess.STDOUT)
        try:
            yield server
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@contextmanager
def server_data(prefix: str, *, keep: bool) -> Iterator[tuple[Path, dict[str, str]]]:
    """A fresh data directory for a `trellis` process and the environment that points it
    there (the caller's, without its ``TRELLIS_`` settings). Removed afterwards unless
    ``keep``: then its path is logged, to look at the server's log and database."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"trellis-bench-{prefix}-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRELLIS_")}
    env["TRELLIS_DATA_DIR"] = str(data_dir)
    try:
        yield data_dir, env
    finally:
        if keep:
            log(f"kept {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


def report(figures: dict[str, Any]) -> None:
    """Emit the figures; a failed check is logged and makes the script exit 1."""
    for problem in figures.get("problems", []):
        log(f"FAILED CHECK: {problem}")
    emit(figures)
    if not figures.get("ok", True):
        sys.exit(1)


@asynccontextmanager
async def wired(
    url: str, *, database: Database | None = None, **settings: Any
) -> AsyncIterator[bootstrap.Application]:
    """The application for the (migrated) database at ``url``, built by
    ``trellis.bootstrap.build`` as ``serve``, ``worker`` and the CLI build it, and closed
    afterwards. ``settings`` are :class:`~trellis.settings.Settings` fields (nested ones as
    dicts, e.g. ``campaigns={"batch_size": 5000}``); the data directory is a temporary one.

    There is no job backend: jobs a commit would enqueue are dropped, so nothing runs in the
    background of what this process times (it runs the work itself). ``database``: one the
    caller opened and disposes of; by default the application opens its own, as configured.
    """
    with tempfile.TemporaryDirectory(prefix="trellis-bench-data-") as data_dir:
        application = bootstrap.build(
            Settings(data_dir=Path(data_dir), database=DatabaseSettings(url=url), **settings),
            database=database,
        )
        application.database.jobs = None
        try:
            yield application
        finally:
            await application.aclose()


if __name__ == "__main__":
    # `make bench` runs every benchmarks/*.py; this module has nothing to measure.
    pass
