"""Apply the Alembic chain from code: used by the CLI, ``serve`` and the tests."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from trellis.db.session import create_engine


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", "trellis.db:migrations")
    config.set_main_option("sqlalchemy.url", url)
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
    return config


async def _with_engine(url: str, fn: Any, *args: Any) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:

            def in_sync(sync_conn: Any) -> None:
                config = alembic_config(url)
                config.attributes["connection"] = sync_conn
                fn(config, *args)

            await conn.run_sync(in_sync)
    finally:
        await engine.dispose()


async def upgrade(url: str, revision: str = "head") -> None:
    await _with_engine(url, command.upgrade, revision)


async def downgrade(url: str, revision: str) -> None:
    await _with_engine(url, command.downgrade, revision)


def heads() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return list(script.get_heads())


async def current_revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:

            def read(sync_conn: Any) -> str | None:
                return MigrationContext.configure(sync_conn).get_current_revision()

            return await conn.run_sync(read)
    finally:
        await engine.dispose()
