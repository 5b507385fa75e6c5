"""Outgoing HTTP requests are logged only when the level is DEBUG (one line per webhook call
at INFO would drown everything else)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest

from trellis.logging import configure_logging


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    httpx_level = logging.getLogger("httpx").level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(httpx_level)


def _request() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200))
    with httpx.Client(transport=transport) as client:
        client.post("https://hooks.example.com/trellis", json={"contact": 1})


@pytest.mark.parametrize(("level", "logged"), [("INFO", False), ("DEBUG", True)])
def test_outgoing_requests_are_logged_only_at_debug(
    capsys: pytest.CaptureFixture[str], level: str, logged: bool
) -> None:
    configure_logging(level=level, fmt="console", log_dir=None)
    _request()
    output = capsys.readouterr().err
    assert ("hooks.example.com/trellis" in output) is logged
