"""Routing that does not walk every route for every request.

FastAPI 0.165 keeps each included router as a lazy branch: a request is matched against
every route of every branch in turn, twice (once to choose the branch, once inside it), with
scope bookkeeping per route tried. With about 190 routes that cost 100 to 900 µs per request,
more than a tracking hit costs in all. So:

- :func:`include_flat` puts a router's routes straight into the application's own route
  list (the domain routers carry the full path, ``/api/v2`` included, see :data:`API_PREFIX`);
- :class:`RouteIndex` sits where the application router's dispatch was and tries only the
  routes whose literal path prefix fits the request, in their registration order. The first
  full match wins, as before; anything else (a path or method mismatch, a trailing-slash
  redirect, the UI's fallback) goes to the router's own dispatch, unchanged.

A route added to a domain router is reached through the application's routes, not through
the domain router, so ``app.dependency_overrides`` does not reach it (nothing here uses them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter, FastAPI
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

API_PREFIX = "/api/v2"


def include_flat(app: FastAPI, router: APIRouter) -> None:
    """Add ``router``'s routes, in order, to the application's route list."""
    app.router.routes.extend(router.routes)


def literal_prefix(route: BaseRoute) -> str:
    """The part of the route's path before its first parameter ('' when unknown): a path
    the route matches always starts with it."""
    path_format = getattr(route, "path_format", None)
    if not isinstance(path_format, str):
        return ""
    return path_format.split("{", 1)[0]


@dataclass
class _Node:
    children: dict[str, _Node] = field(default_factory=dict)
    # (registration order, literal prefix, route) of the routes whose whole literal segments
    # end at this node.
    routes: list[tuple[int, str, BaseRoute]] = field(default_factory=list)


class RouteIndex:
    """The application router's dispatch, narrowed by a trie of literal path segments."""

    def __init__(self, app: FastAPI) -> None:
        self.router = app.router
        self.fallback: ASGIApp = app.router.middleware_stack
        self._indexed_count = -1
        self._root = _Node()

    def _build(self) -> None:
        root = _Node()
        for order, route in enumerate(self.router.routes):
            prefix = literal_prefix(route)
            # Only the segments before the last '/' are whole; the rest may end mid-segment.
            whole = prefix.split("/")[1:-1] if prefix.startswith("/") else []
            node = root
            for segment in whole:
                node = node.children.setdefault(segment, _Node())
            node.routes.append((order, prefix, route))
        self._root = root
        self._indexed_count = len(self.router.routes)

    def candidates(self, path: str) -> list[BaseRoute]:
        """The routes that may match ``path`` fully, in registration order."""
        if self._indexed_count != len(self.router.routes):
            self._build()
        found: list[tuple[int, str, BaseRoute]] = list(self._root.routes)
        node = self._root
        for segment in path.split("/")[1:-1]:
            child = node.children.get(segment)
            if child is None:
                break
            node = child
            found.extend(node.routes)
        found.sort(key=lambda entry: entry[0])
        return [route for _, prefix, route in found if path.startswith(prefix)]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            for route in self.candidates(scope["path"]):
                match, child_scope = route.matches(scope)
                if match == Match.FULL:
                    scope.setdefault("router", self.router)
                    scope.update(child_scope)
                    await route.handle(scope, receive, send)
                    return
        await self.fallback(scope, receive, send)


def install_route_index(app: FastAPI) -> RouteIndex:
    """Put a :class:`RouteIndex` in front of the application router's own dispatch."""
    index = RouteIndex(app)
    app.router.middleware_stack = index
    return index
