"""The condition "has consent for purpose X": true for contacts whose latest consent record
for the purpose grants it. Compiles to the ``consent`` segment filter (one statement for the
whole batch)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints

from trellis.engine.graph import Kind
from trellis.events.base import EventConfig, EventType

Purpose = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
]


class HasConsent(EventConfig):
    purpose: Purpose = Field(default="marketing", description="The consent's purpose.")


def has_consent_filter(config: HasConsent) -> dict[str, Any]:
    return {
        "match": "all",
        "conditions": [{"type": "consent", "operator": "=", "value": config.purpose}],
    }


TYPES = (
    EventType(
        "contact.has_consent",
        Kind.CONDITION,
        "Has consent",
        "Whether the contact's consent for a purpose stands: given, and not withdrawn since.",
        HasConsent,
        to_filter=has_consent_filter,
        group="Contact",
    ),
)
