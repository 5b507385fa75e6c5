"""Statements whose SQL differs by dialect: inserts that skip or merge on conflict."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert


def dialect_name(session: AsyncSession) -> str:
    bind = session.get_bind()
    return bind.dialect.name


def insert_ignoring_conflicts(session: AsyncSession, table: Table | Any) -> Insert:
    """INSERT that silently skips rows colliding with a unique key (set-based, idempotent)."""
    if dialect_name(session) == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def insert_updating_on_conflict(
    session: AsyncSession, table: Table | Any, *, keys: Sequence[str], update: Sequence[str]
) -> Insert:
    """INSERT ... ON CONFLICT (keys) DO UPDATE SET each of ``update`` to the new value."""
    module: Any = postgresql if dialect_name(session) == "postgresql" else sqlite
    statement = module.insert(table)
    return statement.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=list(keys),
        set_={name: getattr(statement.excluded, name) for name in update},
    )
