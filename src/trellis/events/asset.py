"""Asset steps: the decision "downloads an asset".

Downloads are behaviours: the public download route offers each download by a known contact
(a signed link) to the decisions the contact waits on as
``Behaviour(kind="asset.download", channel_id=<asset id>)``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from trellis.engine.graph import Kind
from trellis.events.base import Behaviour, EventConfig, EventType

BEHAVIOUR_DOWNLOAD = "asset.download"
Id = Annotated[int, Field(ge=1)]


class Downloads(EventConfig):
    assets: Annotated[list[Id], Field(max_length=50)] = Field(
        default=[], description="Only downloads of these assets; none: any asset."
    )


def downloads(config: Downloads, behaviour: Behaviour) -> bool:
    if behaviour.kind != BEHAVIOUR_DOWNLOAD:
        return False
    return not config.assets or behaviour.channel_id in config.assets


TYPES = (
    EventType(
        BEHAVIOUR_DOWNLOAD,
        Kind.DECISION,
        "Downloads asset",
        "Waits until the contact downloads one of the assets (or any asset).",
        Downloads,
        behaviour=BEHAVIOUR_DOWNLOAD,
        matches=downloads,
        group="Assets",
        references={"assets": "asset"},
    ),
)
