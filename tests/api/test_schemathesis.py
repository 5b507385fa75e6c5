"""Property-based requests generated from our own OpenAPI document: no input, however odd,
may produce a server error, and every response must match the documented schema."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from tests.fixtures.database import DatabaseUnderTest
from trellis.api.app import create_app
from trellis.clock import SystemClock
from trellis.db.session import Database, create_engine
from trellis.db.urls import normalise_database_url
from trellis.settings import DatabaseSettings, Settings

PASSWORD = "Schemathesis-pass-1"


@pytest.fixture(scope="module")
def api(
    database_template: DatabaseUnderTest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[FastAPI, str]]:
    if database_template.dialect == "sqlite":
        source = Path(make_url(database_template.url).database or "")
        target = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
        shutil.copyfile(source, target)
        url = normalise_database_url(f"sqlite:///{target}")
    else:
        url = database_template.url
    settings_ = Settings(
        data_dir=tmp_path_factory.mktemp("fuzz-data"), database=DatabaseSettings(url=url)
    )
    database = Database(create_engine(url, pooled=False))
    app = create_app(settings_, database=database, clock=SystemClock(), run_services=False)
    with TestClient(app) as client:
        setup = client.post(
            "/api/v2/setup", json={"email": "fuzz@example.com", "password": PASSWORD}
        )
        assert setup.status_code == 201, setup.text
        client.headers["X-CSRF-Token"] = client.cookies["trellis_csrf"]
        token = client.post("/api/v2/tokens", json={"name": "fuzz"}).json()["token"]
    yield app, token
    asyncio.run(database.dispose())
    if database_template.dialect != "sqlite":
        asyncio.run(_truncate(url))


async def _truncate(url: str) -> None:
    from sqlalchemy import text

    import trellis.db.models  # noqa: F401
    from trellis.db.base import Base

    engine = create_engine(url, pooled=False)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await engine.dispose()


SKIPPED_PATHS = {
    # Would end the shared session or change the shared password mid-run.
    "/api/v2/auth/logout",
    "/api/v2/auth/password",
}


@pytest.mark.timeout(900)
def test_api_never_fails_with_a_server_error(api: tuple[FastAPI, str]) -> None:
    app, token = api
    schema = schemathesis.openapi.from_asgi("/api/v2/openapi.json", app)
    server_errors: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in SKIPPED_PATHS:
            continue
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=12,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case: Any) -> None:
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            if response.status_code >= 500:
                server_errors.append(
                    f"{case.method} {case.formatted_path} -> {response.status_code}: "
                    f"{response.text[:200]}"
                )

        exercise()
    assert operations >= 15
    assert server_errors == []
