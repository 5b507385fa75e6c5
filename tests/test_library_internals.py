"""Library internals Trellis relies on where no public API does the job (issue 14, item 7).

Each library below is pinned under its next minor version in pyproject.toml; an upgrade that
moves one of these names fails here, naming the internal and the code that needs it, instead
of failing somewhere in a request. Public replacements are used wherever they exist (the bulk
insert's bind processors, the route listing); FastAPI's routing needs none since ADR 0022.
"""

from __future__ import annotations

import inspect
import sqlite3
from pathlib import Path

import jinja2
import pytest
import sqlalchemy
from jinja2 import Template
from jinja2.compiler import CodeGenerator, Frame
from sqlalchemy import text
from sqlalchemy.dialects.sqlite import aiosqlite as sqlalchemy_aiosqlite

from trellis.db import sqlite_driver
from trellis.db.session import create_engine


def _moved(internal: str, user: str) -> str:
    return (
        f"{internal} moved or changed in this version of the library; {user} depends on it. "
        "Adapt that code (and this test), then raise the version pin in pyproject.toml."
    )


def test_sqlalchemys_aiosqlite_adapter_still_reaches_into_conn_and_tx() -> None:
    user = "trellis.db.sqlite_driver (ADR 0008)"
    adapter = getattr(sqlalchemy_aiosqlite, "AsyncAdapt_aiosqlite_dbapi", None)
    assert adapter is not None, _moved("sqlalchemy...aiosqlite.AsyncAdapt_aiosqlite_dbapi", user)
    connection = getattr(sqlalchemy_aiosqlite, "AsyncAdapt_aiosqlite_connection", None)
    assert connection is not None, _moved("AsyncAdapt_aiosqlite_connection", user)
    source = inspect.getsource(connection)
    # The adapter sets the isolation level by queueing work on the driver connection's thread.
    assert "._connection._conn" in source, _moved("the adapter's use of `_conn`", user)
    assert "._connection._tx.put_nowait" in source, _moved("the adapter's use of `_tx`", user)
    names = {"_conn", "_tx"}
    assert names <= set(vars(sqlite_driver.Connection(lambda: sqlite3.connect(":memory:")))), (
        "trellis.db.sqlite_driver.Connection no longer provides `_conn` and `_tx`"
    )


async def test_the_adapter_sets_the_isolation_level_through_our_driver(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'internals.db'}")
    try:
        autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        async with autocommit.connect() as conn:
            assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        await engine.dispose()


def test_jinjas_template_and_code_generator_hooks_are_where_the_sandbox_expects() -> None:
    user = "trellis.domains.emails.sandbox (issue 15: bounded templates)"
    from_namespace = inspect.getattr_static(Template, "_from_namespace", None)
    assert isinstance(from_namespace, classmethod), _moved("Template._from_namespace", user)
    parameters = list(inspect.signature(Template._from_namespace).parameters)
    assert parameters == ["environment", "namespace", "globals"], _moved(
        f"Template._from_namespace's parameters (now {parameters})", user
    )
    for method in ("visit_Template", "visit_Concat", "buffer", "temporary_identifier", "write"):
        assert callable(getattr(CodeGenerator, method, None)), _moved(
            f"jinja2.compiler.CodeGenerator.{method}", user
        )
    assert "self.buffer" in inspect.getsource(Frame.__init__), _moved(
        "jinja2.compiler.Frame.buffer", user
    )
    rendered = jinja2.Environment().from_string("x")
    assert callable(rendered.root_render_func), _moved("Template.root_render_func", user)


@pytest.mark.parametrize(
    ("module", "pinned_below"),
    [(sqlalchemy, (2, 2)), (jinja2, (3, 2))],
)
def test_the_installed_versions_are_the_pinned_ones(
    module: object, pinned_below: tuple[int, int]
) -> None:
    version = tuple(int(part) for part in str(module.__version__).split(".")[:2])  # type: ignore[attr-defined]
    assert version < pinned_below, f"{module.__name__} {version} is past its pin"  # type: ignore[attr-defined]
