"""Trellis: a self-hosted marketing-automation campaign engine."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("trellis")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"
