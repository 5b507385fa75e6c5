"""The UTC calendar day of a timestamp column, as ``YYYY-MM-DD`` text, on both dialects.

Daily series group by it; the day boundaries are UTC so that every viewer gets the same buckets.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class utc_day(FunctionElement[str]):  # a SQL function, named like one
    type = String()
    inherit_cache = True
    name = "utc_day"


@compiles(utc_day, "postgresql")
def _utc_day_pg(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"to_char(({column}) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


@compiles(utc_day, "sqlite")
def _utc_day_sqlite(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps UTCDateTime as naive UTC text ("YYYY-MM-DD HH:MM:SS..."): the day leads it.
    column = compiler.process(element.clauses, **kw)
    return f"substr({column}, 1, 10)"
