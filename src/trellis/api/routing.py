"""Where the API's routes live.

Each domain router declares ``prefix=API_PREFIX`` and carries its full path; the application
includes it with FastAPI's own ``include_router`` (ADR 0022: the path index of ADR 0011 saved
too little for a user to notice, so routing is FastAPI's and Starlette's as they come).
"""

from __future__ import annotations

API_PREFIX = "/api/v2"
