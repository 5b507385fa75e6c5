"""Campaign export and import run within the request: a manifest is configuration, not bulk
data (hundreds of entities at most), and an import must be one transaction. No background
jobs."""

from __future__ import annotations
