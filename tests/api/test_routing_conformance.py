"""The flat route index (ADR 0011) against FastAPI's and Starlette's routing as they come (each
domain router included with ``include_router``, no index): the same requests to both apps
answer alike, status, body and the headers that matter. Covers path parameters and their
conversion errors, 404, 405 with Allow, the trailing slash, dependencies (authentication,
If-Match) and the public routes outside /api/v2."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, FastAPI

from tests.fixtures.api import ADMIN_EMAIL, Harness
from tests.fixtures.database import DatabaseUnderTest
from trellis.api import app as app_module
from trellis.api.routing import RouteIndex
from trellis.clock import FixedClock
from trellis.db.session import Database, create_engine
from trellis.settings import Settings


@asynccontextmanager
async def _app(
    settings: Settings, database: Database, clock: FixedClock, *, stock: bool
) -> AsyncIterator[FastAPI]:
    with pytest.MonkeyPatch.context() as patch:
        if stock:

            def include(app: FastAPI, router: APIRouter) -> None:
                app.include_router(router)

            patch.setattr(app_module, "include_flat", include)
            patch.setattr(app_module, "install_route_index", lambda app: None)
        app = app_module.create_app(settings, database=database, clock=clock, run_services=False)
    assert isinstance(app.router.middleware_stack, RouteIndex) is not stock
    async with LifespanManager(app):
        yield app


def _answer(response: httpx.Response) -> dict[str, Any]:
    body: Any = response.text
    if response.headers.get("content-type", "").endswith("json"):
        body = response.json()
    return {
        "status": response.status_code,
        "body": body,
        "allow": response.headers.get("allow"),
        "location": response.headers.get("location"),
        "etag": response.headers.get("etag"),
        "www-authenticate": response.headers.get("www-authenticate"),
    }


async def _requests(harness: Harness, token: str) -> list[dict[str, Any]]:
    answers = []
    async with harness.client(token=token) as admin, harness.client() as anonymous:
        created = await admin.post("/api/v2/companies", json={"name": "Routing Co"})
        company = created.json()["id"]
        etag = created.headers["etag"]
        for client, method, path, extra in (
            (admin, "GET", f"/api/v2/companies/{company}", {}),
            (admin, "GET", "/api/v2/companies/not-a-number", {}),
            (admin, "GET", "/api/v2/companies/999999", {}),
            (admin, "GET", "/api/v2/companies", {"params": {"q": "Routing"}}),
            (admin, "GET", "/api/v2/companies/", {}),
            (admin, "PUT", "/api/v2/companies", {}),
            (admin, "DELETE", "/api/v2/segments", {}),
            (admin, "GET", "/api/v2/no-such-thing", {}),
            (admin, "GET", "/no-such-page/at/all", {}),
            (anonymous, "GET", "/api/v2/companies", {}),
            (anonymous, "GET", f"/api/v2/companies/{company}", {}),
            (
                admin,
                "PATCH",
                f"/api/v2/companies/{company}",
                {"json": {"name": "Renamed"}, "headers": {"If-Match": '"999"'}},
            ),
            (
                admin,
                "PATCH",
                f"/api/v2/companies/{company}",
                {"json": {"name": "Renamed"}, "headers": {"If-Match": etag}},
            ),
            (anonymous, "GET", "/healthz", {}),
            (anonymous, "GET", "/t/open/forged-token.gif", {}),
            (anonymous, "POST", "/f/no-such-form", {"json": {"email": "a@example.com"}}),
        ):
            response = await client.request(method, path, **extra)
            answers.append({"request": f"{method} {path}", **_answer(response)})
        deleted = await admin.delete(f"/api/v2/companies/{company}")
        assert deleted.status_code == 204
    return answers


async def test_the_index_answers_as_fastapis_own_routing(
    settings: Settings, test_database: DatabaseUnderTest, clock: FixedClock
) -> None:
    database = Database(create_engine(test_database.url))
    results = []
    try:
        for stock in (False, True):
            async with _app(settings, database, clock, stock=stock) as app:
                harness = Harness(app=app, database=database, clock=clock, settings=settings)
                if not results:
                    user = await harness.create_user(ADMIN_EMAIL)
                    token = await harness.create_token(user)
                results.append(await _requests(harness, token))
    finally:
        await database.dispose()
    index, stock_answers = results
    for ours, theirs in zip(index, stock_answers, strict=True):
        # Ids and versions differ between the two runs; everything else must not.
        assert _normalise(ours) == _normalise(theirs), ours["request"]
    assert {a["status"] for a in index} >= {200, 401, 404, 405, 412, 422}


def _normalise(answer: dict[str, Any]) -> str:
    return re.sub(r"\d+", "N", repr(answer))
