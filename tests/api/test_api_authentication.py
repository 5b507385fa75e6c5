"""Every /api/v2 route depends on authentication, except an explicit allow-list (issue 15).

Read from the routes the application serves (OpenAPI or not), through the dependency tree
FastAPI resolves for each: a route that lost its actor dependency, through the flat route
inclusion or a router built by hand, fails here by name. The behaviour (401 for an
anonymous request) is checked over every documented route in test_permission_matrix.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import RouteContext, iter_route_contexts

from trellis.api.app import create_app
from trellis.api.deps import current_actor
from trellis.api.routing import API_PREFIX
from trellis.settings import Settings

# Routes a visitor reaches without an account, and why.
ALLOWED_ANONYMOUS = {
    ("POST", "/api/v2/auth/login"): "signing in",
    ("POST", "/api/v2/auth/logout"): "ends the caller's own session cookie, if any",
    ("GET", "/api/v2/setup"): "whether the first administrator is still to be created",
    ("POST", "/api/v2/setup"): "creating the first administrator, refused once one exists",
    ("GET", "/api/v2/openapi.json"): "the OpenAPI document",
    ("HEAD", "/api/v2/openapi.json"): "the OpenAPI document",
    ("GET", "/api/v2/docs"): "the API reference page",
    ("GET", "/api/v2/docs/init.js"): "the API reference page's script",
    # Authenticated inside the track batcher, for the whole group it commits together
    # (api/batching.py); test_permission_matrix checks its 401 over HTTP.
    ("POST", "/api/v2/events"): "authenticated by the track batcher",
}


def _calls(dependant: Dependant | None) -> Iterator[Callable[..., Any]]:
    # A plain Starlette route (no dependant) has no dependencies at all.
    for dependency in dependant.dependencies if dependant is not None else ():
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def _api_routes(app: FastAPI) -> list[RouteContext]:
    """Every route as FastAPI serves it, included routers' routes with the dependencies their
    inclusion adds (FastAPI keeps an included router as a branch of app.routes)."""
    routes = [r for r in iter_route_contexts(app.routes) if (r.path or "").startswith(API_PREFIX)]
    assert len(routes) > 100, "the application's API routes were not found"
    return routes


def test_every_api_route_requires_an_actor_but_the_allow_list(settings: Settings) -> None:
    app = create_app(settings, run_services=False)
    unguarded = sorted(
        f"{method} {route.path}"
        for route in _api_routes(app)
        for method in route.methods or ()
        if (method, route.path) not in ALLOWED_ANONYMOUS
        and current_actor not in set(_calls(getattr(route, "dependant", None)))
    )
    assert unguarded == [], f"API routes without authentication: {unguarded}"


def test_the_allow_list_names_routes_that_exist(settings: Settings) -> None:
    app = create_app(settings, run_services=False)
    served = {(m, r.path) for r in _api_routes(app) for m in r.methods or ()}
    assert set(ALLOWED_ANONYMOUS) <= served, set(ALLOWED_ANONYMOUS) - served
