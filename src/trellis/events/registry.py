"""The catalogue of event types: the built-ins listed explicitly, then third-party types from
the ``trellis.events`` entry-point group. The registry is a value, passed where it is needed."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from importlib.metadata import entry_points

from trellis.engine.graph import TypeInfo
from trellis.events import (
    asset,
    behaviour,
    campaign,
    conditions,
    consent,
    contact,
    email,
    form,
    web,
    webhook,
)
from trellis.events.base import EventType

log = logging.getLogger(__name__)

BUILTIN: tuple[EventType, ...] = (
    *contact.TYPES,
    *campaign.TYPES,
    *webhook.TYPES,
    *conditions.TYPES,
    *consent.TYPES,
    *behaviour.TYPES,
    *email.TYPES,
    *form.TYPES,
    *asset.TYPES,
    *web.TYPES,
)

ENTRY_POINT_GROUP = "trellis.events"


class Registry:
    def __init__(self, types: Iterable[EventType]) -> None:
        self._types: dict[str, EventType] = {}
        for event_type in types:
            self.add(event_type)

    def add(self, event_type: EventType) -> None:
        if event_type.key in self._types:
            raise ValueError(f"event type {event_type.key!r} is registered twice")
        self._types[event_type.key] = event_type

    def get(self, key: str) -> EventType | None:
        return self._types.get(key)

    def __iter__(self) -> Iterator[EventType]:
        return iter(self._types.values())

    def __contains__(self, key: object) -> bool:
        return key in self._types

    def info(self, event_type: EventType, config: object) -> TypeInfo:
        """The graph rules' view of a type, with a split's branch count from its config."""
        branches = event_type.branches(config) if event_type.branches and config else 0
        return TypeInfo(
            kind=event_type.kind,
            leaf=event_type.leaf,
            parent_types=event_type.parent_types,
            branches=branches,
            jumps=event_type.jumps,
            external=event_type.external,
        )

    @classmethod
    def default(cls, extra: Iterable[EventType] = ()) -> Registry:
        registry = cls([*BUILTIN, *extra])
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            try:
                loaded = entry.load()
                for event_type in loaded if isinstance(loaded, list | tuple) else [loaded]:
                    registry.add(event_type)
            except Exception:
                log.exception("could not load event types", extra={"entry_point": entry.name})
        return registry
