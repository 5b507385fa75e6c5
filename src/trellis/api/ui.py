"""Serving the built UI and the interactive API docs, all from this origin."""

from __future__ import annotations

import mimetypes
import os
import stat
from pathlib import Path

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers
from starlette.routing import Match
from starlette.staticfiles import NotModifiedResponse
from starlette.types import Scope

from trellis.api.problems import problem_response

STATIC_DIR = Path(__file__).resolve().parent.parent / "ui_bundle"

_DOCS_HTML = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Trellis API v2</title>
  <link rel="stylesheet" href="/static/swagger/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/static/swagger/swagger-ui-bundle.js"></script>
  <script src="/api/v2/docs/init.js"></script>
</body>
</html>
"""

# Kept out of the page so the Content-Security-Policy can forbid inline scripts.
_DOCS_INIT = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/v2/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    withCredentials: true,
    requestInterceptor: function (request) {
      var match = document.cookie.match(/(?:^|; )trellis_csrf=([^;]+)/);
      if (match) { request.headers["X-CSRF-Token"] = decodeURIComponent(match[1]); }
      return request;
    }
  });
});
"""

_UI_MISSING = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Trellis</title></head>
<body><h1>Trellis</h1>
<p>The web UI has not been built. Run <code>make run</code>, or
<code>uv run python scripts/build_ui.py</code>.</p>
<p>The API is at <a href="/api/v2/docs">/api/v2/docs</a>.</p>
</body></html>"""


# Vite names every file under assets/ after a hash of its content: a new build means new names,
# so a browser may keep them for a year without asking again. Anything else is revalidated.
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# scripts/build_ui.py writes a gzip copy (name + ".gz") next to each of these.
COMPRESSIBLE = frozenset({".js", ".mjs", ".css", ".svg", ".json", ".html", ".txt", ".map"})


class BundleFiles(StaticFiles):
    """The built UI: the precompressed copy when the browser accepts gzip, and cache headers
    that let hashed files stay cached."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await self._compressed(path, scope) or await super().get_response(path, scope)
        if response.status_code in (200, 206, 304):
            hashed = path.replace(os.sep, "/").startswith("assets/")
            response.headers["Cache-Control"] = IMMUTABLE if hashed else REVALIDATE
            if os.path.splitext(path)[1] in COMPRESSIBLE:
                response.headers["Vary"] = "Accept-Encoding"
        return response

    async def _compressed(self, path: str, scope: Scope) -> Response | None:
        if os.path.splitext(path)[1] not in COMPRESSIBLE:
            return None
        request_headers = Headers(scope=scope)
        if "gzip" not in request_headers.get("accept-encoding", "").lower():
            return None
        full_path, stat_result = await anyio.to_thread.run_sync(self.lookup_path, path + ".gz")
        if stat_result is None or not stat.S_ISREG(stat_result.st_mode):
            return None
        media_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
        response: Response = FileResponse(
            full_path,
            stat_result=stat_result,
            media_type=media_type,
            headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"},
        )
        if self.is_not_modified(response.headers, request_headers):
            return NotModifiedResponse(response.headers)
        return response


_ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _path_exists_for_other_method(app: FastAPI, request: Request) -> bool:
    """True when a real route has this path but not this method: that is a 405, not a 404."""
    for route in app.router.routes:
        if getattr(route, "path", None) == "/{path:path}":
            continue
        match, _ = route.matches(request.scope)
        if match == Match.PARTIAL:
            return True
    return False


def install_ui(app: FastAPI, *, static_dir: Path = STATIC_DIR) -> None:
    @app.get("/api/v2/docs", include_in_schema=False)
    async def api_docs() -> HTMLResponse:
        return HTMLResponse(_DOCS_HTML)

    @app.get("/api/v2/docs/init.js", include_in_schema=False)
    async def api_docs_init() -> Response:
        return Response(_DOCS_INIT, media_type="text/javascript")

    app.mount("/static", BundleFiles(directory=static_dir, check_dir=False), name="static")

    index = static_dir / "index.html"

    @app.api_route("/{path:path}", methods=list(_ALL_METHODS), include_in_schema=False)
    async def fallback(request: Request, path: str) -> Response:
        if _path_exists_for_other_method(app, request):
            return problem_response(
                405,
                detail=f"{request.method} is not allowed on {request.url.path}.",
                instance=request.url.path,
            )
        # Unknown API paths answer in JSON, never with the app's HTML.
        if path == "api" or path.startswith("api/") or request.method not in {"GET", "HEAD"}:
            return problem_response(
                404, detail=f"No API endpoint at {request.url.path}.", instance=request.url.path
            )
        if index.is_file():
            return FileResponse(index, headers={"Cache-Control": "no-cache"})
        return HTMLResponse(_UI_MISSING, status_code=200)
