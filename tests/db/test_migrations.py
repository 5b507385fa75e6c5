"""One Alembic chain for both dialects: a single head, a clean round trip, no drift."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import trellis.db.models  # noqa: F401
from tests.fixtures.database import DatabaseUnderTest
from trellis.db import migrate
from trellis.db.base import Base
from trellis.db.session import create_engine


def test_single_head() -> None:
    assert len(migrate.heads()) == 1


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def test_upgrade_downgrade_upgrade(test_database: DatabaseUnderTest) -> None:
    url = test_database.url
    expected = {t.name for t in Base.metadata.sorted_tables}
    assert expected <= await _tables(url)
    await migrate.downgrade(url, "base")
    assert (await _tables(url)) - {"alembic_version"} == set()
    assert await migrate.current_revision(url) is None
    await migrate.upgrade(url)
    assert expected <= await _tables(url)
    assert await migrate.current_revision(url) == migrate.heads()[0]


async def test_models_match_migrations(test_database: DatabaseUnderTest) -> None:
    engine = create_engine(test_database.url)
    try:
        async with engine.connect() as conn:

            def compare(sync_conn: Any) -> list[Any]:
                context = MigrationContext.configure(
                    sync_conn, opts={"compare_type": True, "render_as_batch": True}
                )
                return list(compare_metadata(context, Base.metadata))

            differences = await conn.run_sync(compare)
    finally:
        await engine.dispose()
    assert differences == []
