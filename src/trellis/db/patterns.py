"""A user's regular expression as SQL, the same on both databases (see :mod:`trellis.patterns`).

SQLite has no regular expressions of its own: :func:`register_sqlite_functions` installs RE2
(linear time) as ``trellis_regexp`` and as the ``regexp`` behind SQLite's ``REGEXP`` operator,
replacing the Python ``re`` version SQLAlchemy installs, which backtracks while holding the GIL.
PostgreSQL runs its own engine (``~*``) on patterns :func:`trellis.patterns.check_pattern`
let through. Both ignore case, and neither matches a value longer than
:data:`trellis.patterns.MAX_SUBJECT_LENGTH`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, String, bindparam
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import FunctionElement

from trellis.patterns import MAX_SUBJECT_LENGTH, PatternError, search


class _UserPattern(FunctionElement[bool]):
    type = Boolean()
    inherit_cache = True
    name = "trellis_regexp"


def matches_pattern(expr: Any, pattern: str) -> ColumnElement[bool]:
    """Whether ``expr`` matches the user's pattern anywhere, ignoring case."""
    return _UserPattern(expr, bindparam(None, pattern, type_=String))


@compiles(_UserPattern, "postgresql")
def _pattern_pg(element: _UserPattern, compiler: SQLCompiler, **kw: Any) -> str:
    expr, pattern = (compiler.process(c, **kw) for c in element.clauses)
    return f"(char_length({expr}) <= {MAX_SUBJECT_LENGTH} AND {expr} ~* {pattern})"


@compiles(_UserPattern, "sqlite")
def _pattern_sqlite(element: _UserPattern, compiler: SQLCompiler, **kw: Any) -> str:
    expr, pattern = (compiler.process(c, **kw) for c in element.clauses)
    return f"trellis_regexp({pattern}, {expr})"


def _regexp(pattern: str | None, value: Any, *, ignore_case: bool) -> int | None:
    if pattern is None or value is None:
        return None
    try:
        return int(search(pattern, str(value), ignore_case=ignore_case))
    except PatternError:
        # Saving refuses such patterns; one stored before matches nothing.
        return 0


def register_sqlite_functions(dbapi_connection: Any) -> None:
    dbapi_connection.create_function(
        "trellis_regexp",
        2,
        lambda pattern, value: _regexp(pattern, value, ignore_case=True),
        deterministic=True,
    )
    dbapi_connection.create_function(
        "regexp",
        2,
        lambda pattern, value: _regexp(pattern, value, ignore_case=False),
        deterministic=True,
    )
