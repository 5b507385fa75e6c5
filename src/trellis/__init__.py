"""Trellis: a self-hosted marketing-automation campaign engine."""

from __future__ import annotations

import functools


@functools.cache
def _installed_version() -> str:
    # importlib.metadata scans the installed distributions: paid by the commands that print
    # the version, not by every start-up.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("trellis")
    except PackageNotFoundError:  # pragma: no cover - a source tree without install
        return "0.0.0"


def __getattr__(name: str) -> str:
    if name == "__version__":
        return _installed_version()
    raise AttributeError(f"module 'trellis' has no attribute {name!r}")
