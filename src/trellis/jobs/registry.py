"""Named jobs. A job is a plain async function of a :class:`JobContext` and a JSON payload.

``@job`` only describes a function; nothing is registered by importing it. The composition
root (:mod:`trellis.bootstrap`) lists the jobs the application runs in a :class:`JobRegistry`,
and the backends look jobs up there by name, so the same function runs inline or on a worker.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from trellis.clock import Clock
from trellis.db.session import Database


@dataclass(frozen=True)
class JobContext:
    database: Database
    clock: Clock


JobFunction = Callable[[JobContext, dict[str, Any]], Awaitable[None]]

_SPEC_ATTRIBUTE = "__trellis_job__"


@dataclass(frozen=True)
class JobSpec:
    name: str
    function: JobFunction
    max_retries: int
    queue: str
    # Run from a broker, the job is stopped after this long (None: never). A broker takes a
    # message back from a consumer that holds it unacknowledged for too long (RabbitMQ's
    # consumer_timeout: 30 minutes by default) and closes its channel; a job that may run
    # that long either stops below it or leaves its work resumable from the database.
    time_limit_s: float | None = None


def job(
    name: str,
    *,
    max_retries: int = 3,
    queue: str = "default",
    time_limit_s: float | None = None,
) -> Callable[[JobFunction], JobFunction]:
    """Describe ``function`` as the job ``name``; list it in the registry to run it."""

    def describe(function: JobFunction) -> JobFunction:
        spec = JobSpec(name, function, max_retries, queue, time_limit_s)
        setattr(function, _SPEC_ATTRIBUTE, spec)
        return function

    return describe


def spec_of(function: JobFunction) -> JobSpec:
    spec = getattr(function, _SPEC_ATTRIBUTE, None)
    if not isinstance(spec, JobSpec):
        raise TypeError(f"{getattr(function, '__qualname__', function)!r} is not a @job")
    return spec


class UnknownJob(KeyError):
    """A message names a job this process does not run."""


class JobRegistry:
    """The jobs of one application, by name."""

    def __init__(self, functions: Iterable[JobFunction]) -> None:
        self._specs: dict[str, JobSpec] = {}
        for function in functions:
            spec = spec_of(function)
            if spec.name in self._specs:
                raise ValueError(f"job {spec.name!r} is listed twice")
            self._specs[spec.name] = spec

    def get(self, name: str) -> JobSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise UnknownJob(f"unknown job {name!r}") from None

    def __iter__(self) -> Iterator[JobSpec]:
        return iter(self._specs.values())

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def names(self) -> list[str]:
        return sorted(self._specs)
