"""Statements whose SQL differs by dialect: inserts that skip or merge on conflict."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, BigInteger, Dialect, Table, TypeDecorator, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import NullType, TypeEngine


def dialect_name(session: AsyncSession) -> str:
    bind = session.get_bind()
    return bind.dialect.name


def insert_ignoring_conflicts(session: AsyncSession, table: Table | Any) -> Insert:
    """INSERT that silently skips rows colliding with a unique key (set-based, idempotent).

    A mapped class is turned into its table: executing many rows through the ORM's bulk path
    costs far more than the driver's own executemany."""
    table = getattr(table, "__table__", table)
    if dialect_name(session) == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def insert_updating_on_conflict(
    session: AsyncSession, table: Table | Any, *, keys: Sequence[str], update: Sequence[str]
) -> Insert:
    """INSERT ... ON CONFLICT (keys) DO UPDATE SET each of ``update`` to the new value."""
    table = getattr(table, "__table__", table)
    module: Any = postgresql if dialect_name(session) == "postgresql" else sqlite
    statement = module.insert(table)
    return statement.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=list(keys),
        set_={name: getattr(statement.excluded, name) for name in update},
    )


class _InValues(ColumnElement[bool]):
    """Compiled per dialect (below). Not typed Boolean on purpose: SQLite, which has no boolean
    type, would get the test wrapped as ``(...) = 1``, and then no index is used."""

    inherit_cache = True
    type = NullType()  # type: ignore[assignment]

    def __init__(self, column: Any, values: Any) -> None:
        self.column = column
        self.values = values

    def get_children(self, **kw: Any) -> list[Any]:
        return [self.column, self.values]

    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("values", InternalTraversal.dp_clauseelement),
    ]


class _ValueList(TypeDecorator[list[Any]]):
    """A list bound as one parameter: an array of the column's type on PostgreSQL, a JSON array
    on SQLite."""

    impl = JSON
    cache_ok = True

    def __init__(self, item_type: TypeEngine[Any]) -> None:
        super().__init__()
        self.item_type = item_type

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.ARRAY(self.item_type))
        return dialect.type_descriptor(JSON())


def in_values(column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """``column IN values`` as ONE bound parameter, however many values: ``= ANY(array)`` on
    PostgreSQL, which uses the index (a long list of separate parameters makes it check every
    candidate row against every value), and ``IN (SELECT value FROM json_each(...))`` on SQLite,
    which has no limit on the number of values."""
    item_type = getattr(column, "type", None) or BigInteger()
    element: ColumnElement[bool] = _InValues(
        column, bindparam(None, list(values), type_=_ValueList(item_type))
    )
    return element


def ids_in(column: Any, ids: Sequence[int]) -> ColumnElement[bool]:
    return in_values(column, [int(i) for i in ids])


@compiles(_InValues, "postgresql")
def _in_values_pg(element: _InValues, compiler: SQLCompiler, **kw: Any) -> str:
    column, values = compiler.process(element.column, **kw), compiler.process(element.values, **kw)
    return f"({column} = ANY({values}))"


@compiles(_InValues, "sqlite")
def _in_values_sqlite(element: _InValues, compiler: SQLCompiler, **kw: Any) -> str:
    column, values = compiler.process(element.column, **kw), compiler.process(element.values, **kw)
    # Both parts are compiled SQL (a column, a bound parameter), never user text.
    return f"({column} IN (SELECT value FROM json_each({values})))"  # noqa: S608
