"""JSON column operations that differ between SQLite and PostgreSQL, as SQL constructs that
compile per dialect. Repositories use these and stay free of dialect branches.

Keys and values are always bound parameters, never spliced into the SQL text. Each construct
carries both forms of the key (the plain key for PostgreSQL's operators, a JSON path for
SQLite's functions) so that cached compilations stay correct for any key.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Float, String, bindparam
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import FunctionElement

from trellis.db.types import JSONType


def sqlite_path(key: str) -> str:
    """A SQLite JSON path naming one top-level key, quoted so any character stays literal."""
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _key_params(key: str) -> tuple[Any, Any]:
    return bindparam(None, key, type_=String), bindparam(None, sqlite_path(key), type_=String)


class _JsonText(FunctionElement[str]):
    type = String()
    inherit_cache = True
    name = "json_text"


class _JsonNumber(FunctionElement[float]):
    type = Float()
    inherit_cache = True
    name = "json_number"


class _JsonBool(FunctionElement[bool]):
    type = Boolean()
    inherit_cache = True
    name = "json_bool"


class _JsonListContains(FunctionElement[bool]):
    type = Boolean()
    inherit_cache = True
    name = "json_list_contains"


class _JsonWithoutKey(FunctionElement[Any]):
    type = JSONType
    inherit_cache = True
    name = "json_without_key"


def value_text(column: Any, key: str) -> ColumnElement[str]:
    """The value at ``key`` as text; NULL when absent."""
    return _JsonText(column, *_key_params(key))


def value_number(column: Any, key: str) -> ColumnElement[float]:
    """The value at ``key`` as a number (number fields are checked when written)."""
    return _JsonNumber(column, *_key_params(key))


def value_bool(column: Any, key: str) -> ColumnElement[bool]:
    return _JsonBool(column, *_key_params(key))


def list_contains(column: Any, key: str, value: str) -> ColumnElement[bool]:
    """The JSON array at ``key`` holds ``value``."""
    return _JsonListContains(column, *_key_params(key), bindparam(None, value, type_=String))


def without_key(column: Any, key: str) -> ColumnElement[Any]:
    """The JSON object minus ``key``, for dropping a custom field from every row."""
    return _JsonWithoutKey(column, *_key_params(key))


def _parts(
    element: FunctionElement[Any], compiler: SQLCompiler, *, pg: bool, **kw: Any
) -> list[str]:
    """Compile the column, the key form this dialect uses, and any further arguments.

    The other key form is left uncompiled: compiling it would add a parameter that the SQL
    text never uses, which positional parameter styles reject.
    """
    clauses = list(element.clauses)
    column, key, path, *rest = clauses
    chosen = [column, key if pg else path, *rest]
    return [compiler.process(clause, **kw) for clause in chosen]


@compiles(_JsonText, "postgresql")
def _text_pg(element: _JsonText, compiler: SQLCompiler, **kw: Any) -> str:
    column, key = _parts(element, compiler, pg=True, **kw)
    return f"({column} ->> {key})"


@compiles(_JsonText, "sqlite")
def _text_sqlite(element: _JsonText, compiler: SQLCompiler, **kw: Any) -> str:
    column, path = _parts(element, compiler, pg=False, **kw)
    return f"CAST(json_extract({column}, {path}) AS TEXT)"


@compiles(_JsonNumber, "postgresql")
def _number_pg(element: _JsonNumber, compiler: SQLCompiler, **kw: Any) -> str:
    column, key = _parts(element, compiler, pg=True, **kw)
    return f"CAST(({column} ->> {key}) AS DOUBLE PRECISION)"


@compiles(_JsonNumber, "sqlite")
def _number_sqlite(element: _JsonNumber, compiler: SQLCompiler, **kw: Any) -> str:
    column, path = _parts(element, compiler, pg=False, **kw)
    return f"CAST(json_extract({column}, {path}) AS REAL)"


@compiles(_JsonBool, "postgresql")
def _bool_pg(element: _JsonBool, compiler: SQLCompiler, **kw: Any) -> str:
    column, key = _parts(element, compiler, pg=True, **kw)
    return f"CAST(({column} ->> {key}) AS BOOLEAN)"


@compiles(_JsonBool, "sqlite")
def _bool_sqlite(element: _JsonBool, compiler: SQLCompiler, **kw: Any) -> str:
    column, path = _parts(element, compiler, pg=False, **kw)
    return f"json_extract({column}, {path})"


@compiles(_JsonListContains, "postgresql")
def _contains_pg(element: _JsonListContains, compiler: SQLCompiler, **kw: Any) -> str:
    column, key, value = _parts(element, compiler, pg=True, **kw)
    return f"(({column} -> {key}) @> jsonb_build_array(CAST({value} AS TEXT)))"


@compiles(_JsonListContains, "sqlite")
def _contains_sqlite(element: _JsonListContains, compiler: SQLCompiler, **kw: Any) -> str:
    column, path, value = _parts(element, compiler, pg=False, **kw)
    # Every part is a compiled column or bound parameter, never user text.
    sql = "EXISTS (SELECT 1 FROM json_each({}, {}) AS item WHERE item.value = {})"
    return sql.format(column, path, value)


@compiles(_JsonWithoutKey, "postgresql")
def _without_pg(element: _JsonWithoutKey, compiler: SQLCompiler, **kw: Any) -> str:
    column, key = _parts(element, compiler, pg=True, **kw)
    return f"({column} - {key})"


@compiles(_JsonWithoutKey, "sqlite")
def _without_sqlite(element: _JsonWithoutKey, compiler: SQLCompiler, **kw: Any) -> str:
    column, path = _parts(element, compiler, pg=False, **kw)
    return f"json_remove({column}, {path})"


class _JsonMerged(FunctionElement[Any]):
    type = JSONType
    inherit_cache = True
    name = "json_merged"


def merged(column: Any, patch: Any) -> ColumnElement[Any]:
    """The JSON object with ``patch``'s keys set (a bound JSON value), for bulk field updates."""
    return _JsonMerged(column, bindparam(None, patch, type_=JSONType))


@compiles(_JsonMerged, "postgresql")
def _merged_pg(element: _JsonMerged, compiler: SQLCompiler, **kw: Any) -> str:
    column, patch = (compiler.process(c, **kw) for c in element.clauses)
    return f"({column} || CAST({patch} AS JSONB))"


@compiles(_JsonMerged, "sqlite")
def _merged_sqlite(element: _JsonMerged, compiler: SQLCompiler, **kw: Any) -> str:
    column, patch = (compiler.process(c, **kw) for c in element.clauses)
    return f"json_patch({column}, {patch})"
