"""Bulk inserts that bypass per-row statement compilation, for imports of millions of rows.

``insert_rows`` takes plain dicts, converts each value once with the column type's own bind
processor (so stored values are exactly what the ORM would store), assigns primary keys up
front and hands the rows to the driver in one call per chunk:

- PostgreSQL: ids from the table's sequence (``nextval`` over ``generate_series``), then
  ``COPY ... FROM STDIN`` through asyncpg's binary protocol, inside the session's transaction.
- SQLite: the writer holds the database lock (``BEGIN IMMEDIATE``, ADR 0002), so ids follow
  ``max(id)``; rows go through the driver's ``executemany`` of one prepared statement.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Column, Table, bindparam, func, insert, literal, select, text, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from trellis.db.dialect import dialect_name, in_values, insert_ignoring_conflicts

Processor = Callable[[Any], Any] | None


def _default(column: Column[Any]) -> Any:
    default = column.default
    if default is None:
        return None
    if getattr(default, "is_scalar", False):
        return getattr(default, "arg", None)
    if getattr(default, "is_callable", False):
        function = default.arg  # type: ignore[attr-defined]
        try:
            return function(None)
        except TypeError:  # pragma: no cover - defaults without a context argument
            return function()
    return None


async def allocate_ids(session: AsyncSession, table: Table, count: int) -> list[int]:
    """``count`` fresh primary keys for ``table`` (an integer ``id`` column)."""
    if count <= 0:
        return []
    if dialect_name(session) == "postgresql":
        result = await session.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                "FROM generate_series(1, :count)"
            ),
            {"table": table.name, "count": count},
        )
        return [row[0] for row in result.all()]
    start = await session.scalar(select(func.coalesce(func.max(table.c.id), 0)))
    first = int(start or 0) + 1
    return list(range(first, first + count))


def _memoised(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The processor, remembering its results for repeated values (the batch's ``now``,
    booleans, empty JSON objects): most columns of a bulk insert repeat a handful of values."""
    memo: dict[Any, Any] = {}
    empty: dict[type, Any] = {}

    def run(value: Any) -> Any:
        try:
            return memo[value]
        except KeyError:
            if len(memo) > 256:
                memo.clear()
            result = memo[value] = processor(value)
            return result
        except TypeError:  # unhashable: dicts and lists
            if not value:
                kind = type(value)
                if kind not in empty:
                    empty[kind] = processor(value)
                return empty[kind]
            return processor(value)

    return run


@functools.lru_cache(maxsize=64)
def _positional_insert(table: Table, dialect: Dialect) -> tuple[list[str], str]:
    """The INSERT of every column and its parameters' order, compiled once per table: for a
    wide table compiling costs more than inserting a small batch (form submissions)."""
    order = ["id", *(c.name for c in table.columns if c.name != "id")]
    compiled = insert(table).values({n: bindparam(n) for n in order}).compile(dialect=dialect)
    return list(compiled.positiontup or []), str(compiled)


async def insert_rows(
    session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]
) -> list[int]:
    """Insert ``rows`` (dicts by column name; missing columns take their defaults) and return
    their new ids in the order given."""
    if not rows:
        return []
    ids = await allocate_ids(session, table, len(rows))
    connection = await session.connection()
    dialect = connection.dialect
    order = ["id", *(c.name for c in table.columns if c.name != "id")]
    sql = ""
    if dialect.name != "postgresql":
        # Values go in the order of the statement's positional parameters.
        order, sql = _positional_insert(table, dialect)
    id_at = order.index("id")
    names = [n for n in order if n != "id"]
    columns = [table.c[n] for n in names]
    defaults = {c.name: _default(c) for c in columns}
    wanted = set(names)
    complete = [row if row.keys() >= wanted else {**defaults, **row} for row in rows]
    pick = itemgetter(*names)
    processed: list[tuple[int, Callable[[Any], Any]]] = []
    for column in columns:
        # The dialect's own type (e.g. JSON serialised for SQLite), through the public API.
        bind = column.type.dialect_impl(dialect).bind_processor(dialect)
        if bind is not None:
            processed.append((order.index(column.name), _memoised(bind)))
    records: list[Any] = []
    append = records.append
    for row_id, row in zip(ids, complete, strict=True):
        values = list(pick(row))
        values.insert(id_at, row_id)
        for position, processor in processed:
            value = values[position]
            if value is not None:
                values[position] = processor(value)
        append(tuple(values))
    if dialect.name == "postgresql":
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        await driver.copy_records_to_table(table.name, records=records, columns=order)
    else:
        await connection.exec_driver_sql(sql, records)
    return ids


def among(session: AsyncSession, column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """``column IN values`` as one parameter (see :func:`trellis.db.dialect.in_values`)."""
    return in_values(column, values)


async def insert_from_arrays(
    session: AsyncSession,
    table: Table,
    *,
    constants: Mapping[str, Any],
    arrays: Mapping[str, Sequence[Any]],
    returning: str,
) -> list[Any]:
    """``INSERT INTO table SELECT <constants>, <one row per array position> ON CONFLICT DO
    NOTHING RETURNING <returning>``: one statement and one parameter per column for any number
    of rows, unnested from arrays on PostgreSQL and from a JSON array on SQLite. Returns the
    ``returning`` column of the rows actually inserted."""
    names = list(arrays)
    size = len(arrays[names[0]]) if names else 0
    if size == 0:
        return []
    dialect = session.get_bind().dialect
    fixed = [literal(value, type_=table.c[name].type) for name, value in constants.items()]
    if dialect.name == "postgresql":
        unnested = (
            func.unnest(
                *(bindparam(None, list(arrays[n]), type_=ARRAY(table.c[n].type)) for n in names)
            )
            .table_valued(*names)
            .render_derived()
        )
        source = select(*fixed, *(unnested.c[n] for n in names))
    else:
        processors = [table.c[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names]
        rows = [
            [
                p(arrays[n][i]) if p is not None else arrays[n][i]
                for n, p in zip(names, processors, strict=True)
            ]
            for i in range(size)
        ]
        each = func.json_each(bindparam(None, json.dumps(rows, default=str))).table_valued("value")
        source = select(
            *fixed, *(func.json_extract(each.c.value, f"$[{i}]") for i in range(len(names)))
        ).where(true())
    columns = [*constants, *names]
    if dialect.name == "postgresql":
        # A plain INSERT costs PostgreSQL about 40% less than ON CONFLICT DO NOTHING (no
        # speculative insertion). The callers' rows are almost always new, so try that first,
        # in a savepoint; a conflict rolls it back and the rows go in the tolerant way.
        try:
            async with session.begin_nested():
                plain = insert(table).from_select(columns, source).returning(table.c[returning])
                return [row[0] for row in (await session.execute(plain)).all()]
        except IntegrityError:
            pass
    statement = (
        insert_ignoring_conflicts(session, table)
        .from_select(columns, source)
        .returning(table.c[returning])
    )
    result = await session.execute(statement)
    return [row[0] for row in result.all()]
