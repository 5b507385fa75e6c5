"""Optimistic concurrency: a write names the version it read (``If-Match``)."""

from __future__ import annotations

from typing import Any

from trellis.errors import PreconditionFailed


def check_version(entity: Any, expected: int | None) -> None:
    if expected is not None and expected != entity.version:
        raise PreconditionFailed(
            f"The resource changed since you read it (version {entity.version}, you sent "
            f"{expected}); reload and try again.",
            extra={"current_version": entity.version},
        )
