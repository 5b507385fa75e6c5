"""Decisions on what a contact does, sent through the track API."""

from __future__ import annotations

import fnmatch
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from trellis.engine.graph import Kind
from trellis.events.base import Behaviour, EventConfig, EventType

EventName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,100}$")]


class PropertyFilter(EventConfig):
    property: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    operator: Literal["=", "!=", ">", ">=", "<", "<=", "contains", "matches", "exists"] = "="
    value: Any = None


class PerformsEvent(EventConfig):
    name: EventName = Field(description="The event name, e.g. trial_started.")
    filters: Annotated[list[PropertyFilter], Field(max_length=20)] = []


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def property_matches(rule: PropertyFilter, properties: dict[str, Any]) -> bool:
    if rule.operator == "exists":
        return rule.property in properties
    if rule.property not in properties:
        return False
    actual = properties[rule.property]
    if rule.operator == "=":
        return bool(actual == rule.value or str(actual) == str(rule.value))
    if rule.operator == "!=":
        return not (actual == rule.value or str(actual) == str(rule.value))
    if rule.operator == "contains":
        return str(rule.value).lower() in str(actual).lower()
    if rule.operator == "matches":
        return fnmatch.fnmatchcase(str(actual), str(rule.value))
    left, right = _number(actual), _number(rule.value)
    if left is None or right is None:
        return False
    return {
        ">": left > right,
        ">=": left >= right,
        "<": left < right,
        "<=": left <= right,
    }[rule.operator]


def performs_event(config: PerformsEvent, behaviour: Behaviour) -> bool:
    if behaviour.kind != "event" or behaviour.name != config.name:
        return False
    properties = dict(behaviour.properties)
    return all(property_matches(rule, properties) for rule in config.filters)


TYPES = (
    EventType(
        "contact.performs_event",
        Kind.DECISION,
        "Contact performs event",
        "Waits until the contact does something your site or app reports through "
        "POST /api/v2/events, optionally with property filters.",
        PerformsEvent,
        behaviour="event",
        matches=performs_event,
        group="Behaviour",
    ),
)
