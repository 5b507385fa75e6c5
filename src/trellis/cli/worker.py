from __future__ import annotations

from typing import Annotated

import typer

from trellis.cli.common import console, fail, settings


def worker(
    scheduler: Annotated[
        bool,
        typer.Option(
            "--scheduler/--no-scheduler",
            help="Also run the scheduler and clean-ups (off: only consume queued jobs).",
        ),
    ] = True,
    threads: Annotated[
        int | None,
        typer.Option(min=1, max=256, help="Jobs run at once (dramatiq backend)."),
    ] = None,
) -> None:
    """Run background work without serving HTTP: the campaign scheduler, segment rebuilds,
    clean-ups and, with TRELLIS_JOBS__BACKEND=dramatiq, the jobs queued on the broker.

    Needs PostgreSQL. Start as many as you like: they claim work with row locks
    (FOR UPDATE SKIP LOCKED), so each step still runs once. With SQLite, `trellis serve` does
    all the background work itself."""
    import asyncio
    import signal

    from trellis import bootstrap
    from trellis.jobs.dramatiq_backend import Consumers, DramatiqBackend
    from trellis.logging import configure_logging
    from trellis.runtime.services import ServiceRunner

    current = settings(require_database=False)
    if current.database_url.startswith("sqlite"):
        # A second process on one SQLite file only queues behind the first for the write lock.
        fail(
            "trellis worker needs PostgreSQL (TRELLIS_DATABASE__URL=postgresql://...): with "
            "SQLite, `trellis serve` runs the background work itself"
        )
    configure_logging(
        level=current.logging.level,
        fmt=current.logging.format,
        log_dir=current.logs_dir if current.logging.to_file else None,
    )
    if not scheduler and current.jobs.backend != "dramatiq":
        fail("--no-scheduler leaves nothing to do without TRELLIS_JOBS__BACKEND=dramatiq")

    async def work() -> None:
        application = bootstrap.build(current)
        backend = application.jobs
        context = application.job_context
        runner = ServiceRunner(application.background_services() if scheduler else [])
        consumers = None
        if isinstance(backend, DramatiqBackend):
            consumers = Consumers(
                backend.broker,
                application.catalogue.jobs,
                namespace=current.jobs.namespace,
                context=lambda: context,
                loop=asyncio.get_running_loop(),
                threads=threads or current.jobs.worker_threads,
            )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await backend.start()
        await runner.start()
        if consumers is not None:
            consumers.start()
        parts = [*runner.names, *(["queued jobs"] if consumers else [])]
        console.print(f"Trellis worker running: {', '.join(parts)}")
        try:
            await stop.wait()
        finally:
            # Both at once, each with its own grace, so that stopping takes the longer of the
            # two and not their sum. Consumers stop off the loop: the jobs still running need
            # the loop to finish.
            stopping = [runner.stop()]
            if consumers is not None:
                stopping.append(asyncio.to_thread(consumers.stop))
            await asyncio.gather(*stopping)
            await backend.stop()
            await application.aclose()

    asyncio.run(work())
