from __future__ import annotations

import typer

from trellis.cli.common import console, run, settings


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535),
    services: bool = typer.Option(
        True, "--services/--no-services", help="Run background services and jobs in-process."
    ),
    migrate_first: bool = typer.Option(
        True, "--migrate/--no-migrate", help="Apply pending migrations before serving."
    ),
) -> None:
    """Serve the API, the UI and (unless --no-services) the background services."""
    import uvicorn

    from trellis.api.app import create_app
    from trellis.db.revision import at_head
    from trellis.logging import configure_logging

    current = settings(require_database=not migrate_first).serving_at(host, port)
    configure_logging(
        level=current.logging.level,
        fmt=current.logging.format,
        log_dir=current.logs_dir if current.logging.to_file else None,
    )
    if migrate_first and not at_head(current.database_url):
        # Alembic is imported only when there is something to migrate.
        from trellis.db import migrate

        run(lambda: migrate.upgrade(current.database_url))
    app = create_app(current, run_services=services)
    console.print(f"Trellis is serving on http://{host}:{port}  (data: {current.data_dir})")
    console.print(f"Links in emails and embed codes use {current.base_url}")
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        # X-Forwarded-* are believed from the configured proxies only, by the application
        # (TRELLIS_API__TRUSTED_PROXIES); uvicorn would believe them from 127.0.0.1.
        proxy_headers=False,
        server_header=False,
    )
