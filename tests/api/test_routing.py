"""The route index chooses the route FastAPI's own dispatch would choose, for every route."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from starlette.routing import BaseRoute, Match

from trellis.api.app import create_app
from trellis.api.routing import RouteIndex
from trellis.settings import Settings


def _first_full_match(routes: list[BaseRoute], scope: dict[str, object]) -> BaseRoute | None:
    for route in routes:
        match, _ = route.matches(dict(scope))
        if match == Match.FULL:
            return route
    return None


def _scope(method: str, path: str) -> dict[str, object]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}


def _sample_paths(path_format: str) -> list[str]:
    """Paths the route matches: every parameter filled with a value of its kind."""
    filled = []
    for value in ("7", "abc", "a-b.c"):
        filled.append(re.sub(r"\{[^}:]+(:path)?\}", value, path_format))
    return filled


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings, run_services=False)


def test_every_route_is_reached_through_the_index(app: FastAPI) -> None:
    index = app.router.middleware_stack
    assert isinstance(index, RouteIndex)
    routes = list(app.router.routes)
    checked = 0
    for route in routes:
        path_format = getattr(route, "path_format", None)
        if not isinstance(path_format, str):
            continue
        methods = sorted(getattr(route, "methods", None) or {"GET"})
        for path in _sample_paths(path_format):
            for method in methods:
                scope = _scope(method, path)
                expected = _first_full_match(routes, scope)
                assert _first_full_match(index.candidates(path), scope) is expected, (
                    method,
                    path,
                )
                checked += 1
    assert checked > 300


@pytest.mark.parametrize(
    "path",
    ["/", "/nothing/here", "/api/v2/", "/api/v2/campaigns/", "/t/", "//", "/api//v2"],
)
def test_paths_that_no_route_names_fall_through_alike(app: FastAPI, path: str) -> None:
    index = app.router.middleware_stack
    assert isinstance(index, RouteIndex)
    scope = _scope("GET", path)
    assert _first_full_match(index.candidates(path), scope) is _first_full_match(
        list(app.router.routes), scope
    )


async def test_a_route_added_later_is_indexed(app: FastAPI) -> None:
    index = app.router.middleware_stack
    assert isinstance(index, RouteIndex)
    index.candidates("/api/v2/campaigns")

    @app.get("/added-later/{item}")
    async def added(item: str) -> dict[str, str]:
        return {"item": item}

    # Registered after the UI's catch-all, so it comes after it, as in FastAPI's own order.
    assert [getattr(r, "path", None) for r in index.candidates("/added-later/1")] == [
        "/{path:path}",
        "/added-later/{item}",
    ]
