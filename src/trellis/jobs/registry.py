"""Named jobs. A job is a plain async function of a :class:`JobContext` and a JSON payload;
backends look it up here by name, so the same function runs inline or on a worker."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from trellis.clock import Clock
from trellis.db.session import Database


@dataclass(frozen=True)
class JobContext:
    database: Database
    clock: Clock


JobFunction = Callable[[JobContext, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class JobSpec:
    name: str
    function: JobFunction
    max_retries: int
    queue: str


_JOBS: dict[str, JobSpec] = {}


def job(
    name: str, *, max_retries: int = 3, queue: str = "default"
) -> Callable[[JobFunction], JobFunction]:
    def register(function: JobFunction) -> JobFunction:
        if name in _JOBS and _JOBS[name].function is not function:
            raise ValueError(f"job {name!r} is registered twice")
        _JOBS[name] = JobSpec(name, function, max_retries, queue)
        return function

    return register


def get_job(name: str) -> JobSpec:
    try:
        return _JOBS[name]
    except KeyError:
        raise KeyError(f"unknown job {name!r}") from None


def registered_jobs() -> dict[str, JobSpec]:
    return dict(_JOBS)
