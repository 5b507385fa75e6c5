from __future__ import annotations

from trellis.cli.common import console, settings


def worker() -> None:
    """Run the background services (campaign scheduler, segment rebuilds, clean-ups) without
    serving HTTP. Start as many as you like against PostgreSQL: they claim work with row locks
    (FOR UPDATE SKIP LOCKED), so each step still runs once. On SQLite run one process only."""
    import asyncio
    import signal

    from trellis.api.app import build_services, configure_engine
    from trellis.cli.common import open_database
    from trellis.clock import SystemClock
    from trellis.jobs.inline import InlineBackend
    from trellis.jobs.registry import JobContext
    from trellis.logging import configure_logging
    from trellis.runtime.services import ServiceRunner

    current = settings()
    configure_logging(
        level=current.logging.level,
        fmt=current.logging.format,
        log_dir=current.logs_dir if current.logging.to_file else None,
    )

    async def work() -> None:
        database = open_database(current)
        context = JobContext(database=database, clock=SystemClock())
        backend = InlineBackend(lambda: context, concurrency=current.jobs.inline_concurrency)
        database.jobs = backend
        http = configure_engine(current)
        runner = ServiceRunner(build_services(context, current))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await backend.start()
        await runner.start()
        console.print(f"Trellis worker running: {', '.join(runner.names)}")
        try:
            await stop.wait()
        finally:
            await runner.stop()
            await backend.stop()
            await http.aclose()
            await database.dispose()

    asyncio.run(work())
