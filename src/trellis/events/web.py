"""Website steps: the decisions "visits a page" and "visits from a device", and the condition
"visited a page".

Page hits are behaviours: the web hit buffer offers each hit of a known contact to the
decisions it waits on as ``Behaviour(kind="page.hit", url=<page URL>,
properties={"referrer": .., "device": ..}, channel_id=<landing page id or None>)``. The
condition compiles to the ``visited_url`` segment filter (one SQL statement for the batch).

URL patterns use ``*`` as the only wildcard (anything, including nothing) and compare without
regard to case; every other character stands for itself (``?`` included: URLs have them).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from trellis.engine.graph import Kind
from trellis.events.base import Behaviour, EventConfig, EventType
from trellis.patterns import wildcard_match

BEHAVIOUR_HIT = "page.hit"
DEVICES = ("desktop", "mobile", "tablet")
Id = Annotated[int, Field(ge=1)]
Pattern = Annotated[str, StringConstraints(min_length=1, max_length=2000, strip_whitespace=True)]
Device = Literal["desktop", "mobile", "tablet"]


class PageHit(EventConfig):
    urls: Annotated[list[Pattern], Field(max_length=50)] = Field(
        default=[],
        description="Pages whose URL matches one of these patterns (* matches anything); "
        "with no patterns and no landing pages: any page.",
    )
    referrer: Pattern | None = Field(
        default=None, description="Only visits whose referrer matches this pattern."
    )
    landing_pages: Annotated[list[Id], Field(max_length=50)] = Field(
        default=[], description="Visits of these landing pages (by id)."
    )


def page_hit(config: PageHit, behaviour: Behaviour) -> bool:
    if behaviour.kind != BEHAVIOUR_HIT:
        return False
    url = behaviour.url or ""
    if config.urls or config.landing_pages:
        by_url = any(wildcard_match(p, url) for p in config.urls)
        by_page = behaviour.channel_id is not None and behaviour.channel_id in config.landing_pages
        if not by_url and not by_page:
            return False
    if config.referrer is not None:
        return wildcard_match(config.referrer, str(behaviour.properties.get("referrer") or ""))
    return True


class DeviceHit(EventConfig):
    devices: Annotated[list[Device], Field(min_length=1, max_length=3)] = Field(
        description="Visits from these device classes."
    )
    urls: Annotated[list[Pattern], Field(max_length=50)] = Field(
        default=[], description="Only pages matching one of these patterns; none: any page."
    )


def device_hit(config: DeviceHit, behaviour: Behaviour) -> bool:
    if behaviour.kind != BEHAVIOUR_HIT:
        return False
    if behaviour.properties.get("device") not in config.devices:
        return False
    url = behaviour.url or ""
    return not config.urls or any(wildcard_match(p, url) for p in config.urls)


class Visited(EventConfig):
    url: Pattern = Field(description="The page URL pattern (* matches anything).")
    within_days: Annotated[int, Field(ge=1, le=3650)] | None = Field(
        default=None, description="Only visits in the last N days; none: ever."
    )


def visited_filter(config: Visited) -> dict[str, Any]:
    return {
        "match": "all",
        "conditions": [
            {
                "type": "visited_url",
                "operator": "matches",
                "value": {"url": config.url, "within_days": config.within_days},
            }
        ],
    }


TYPES = (
    EventType(
        BEHAVIOUR_HIT,
        Kind.DECISION,
        "Visits a page",
        "Waits until the contact visits a page of a tracked website whose URL (or landing "
        "page, or referrer) matches.",
        PageHit,
        behaviour=BEHAVIOUR_HIT,
        matches=page_hit,
        group="Website",
        references={"landing_pages": "page"},
    ),
    EventType(
        "page.device_hit",
        Kind.DECISION,
        "Visits from a device",
        "Waits until the contact visits a tracked page from a desktop, mobile or tablet.",
        DeviceHit,
        behaviour=BEHAVIOUR_HIT,
        matches=device_hit,
        group="Website",
    ),
    EventType(
        "page.visited",
        Kind.CONDITION,
        "Visited a page",
        "The contact visited a page whose URL matches the pattern (optionally in the last N days).",
        Visited,
        to_filter=visited_filter,
        group="Website",
    ),
)
