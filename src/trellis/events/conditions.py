"""Conditions: evaluated when a contact reaches them, yes or no.

Conditions on contact data compile to the same SQL as segment filters (one statement for the
whole batch); the rest are evaluated in Python over the batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

from trellis.engine.advance import split_branch
from trellis.engine.graph import Kind
from trellis.events.base import EventConfig, EventType

Id = Annotated[int, Field(ge=1)]
Channel = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,19}$")]


def _one(condition: Mapping[str, Any]) -> dict[str, Any]:
    return {"match": "all", "conditions": [dict(condition)]}


class FieldValue(EventConfig):
    field: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    operator: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    value: Any = None


def field_value_filter(config: FieldValue) -> dict[str, Any]:
    # The filters port resolves whether the alias is a core or a custom field.
    return _one(
        {"type": "field", "field": config.field, "operator": config.operator, "value": config.value}
    )


class HasTags(EventConfig):
    tags: Annotated[
        list[Annotated[str, StringConstraints(min_length=1, max_length=100)]],
        Field(min_length=1, max_length=50),
    ]
    match: Literal["any", "all", "none"] = "any"


def tags_filter(config: HasTags) -> dict[str, Any]:
    return _one({"type": "tags", "operator": f"has_{config.match}", "value": config.tags})


class InSegments(EventConfig):
    segments: Annotated[list[Id], Field(min_length=1, max_length=50)]
    member: bool = Field(default=True, description="False: in none of the segments.")


def segments_filter(config: InSegments) -> dict[str, Any]:
    return _one(
        {
            "type": "segment",
            "operator": "in" if config.member else "not_in",
            "value": config.segments,
        }
    )


class Points(EventConfig):
    operator: Literal["=", "!=", ">", ">=", "<", "<="]
    value: Annotated[int, Field(ge=-2_000_000_000, le=2_000_000_000)]


def points_filter(config: Points) -> dict[str, Any]:
    return _one({"type": "points", "operator": config.operator, "value": config.value})


class InStages(EventConfig):
    stages: Annotated[list[Id], Field(min_length=1, max_length=50)]


def stages_filter(config: InStages) -> dict[str, Any]:
    return _one({"type": "stage", "operator": "in", "value": config.stages})


class OwnedBy(EventConfig):
    owners: Annotated[list[Id], Field(min_length=1, max_length=50)]


def owner_filter(config: OwnedBy) -> dict[str, Any]:
    return _one({"type": "owner", "operator": "in", "value": config.owners})


class OnDnc(EventConfig):
    channel: Channel = "email"
    reason: Literal["unsubscribed", "bounced", "complaint", "manual"] | None = None


def dnc_filter(config: OnDnc) -> dict[str, Any]:
    condition: dict[str, Any] = {"type": "dnc", "field": config.channel, "operator": "on"}
    if config.reason is not None:
        condition["value"] = config.reason
    return _one(condition)


class InCampaigns(EventConfig):
    campaigns: Annotated[list[Id], Field(min_length=1, max_length=50)]


def campaigns_filter(config: InCampaigns) -> dict[str, Any]:
    return _one({"type": "campaign", "operator": "in", "value": config.campaigns})


class ValidEmail(EventConfig):
    pass


def valid_email_filter(config: ValidEmail) -> dict[str, Any]:
    # Emails are validated when written, so a present address is a valid one.
    return _one({"type": "field", "field": "email", "operator": "not_empty"})


class ConditionGroup(EventConfig):
    """Several criteria in one step, joined by AND/OR, nested as deep as needed: the same
    document a segment's filters are."""

    filters: dict[str, Any] = Field(
        description='{"match": "all"|"any", "conditions": [...]}, as in segment filters.'
    )


def group_filter(config: ConditionGroup) -> dict[str, Any]:
    return dict(config.filters)


class RandomSplit(EventConfig):
    weights: Annotated[
        list[Annotated[int, Field(ge=0, le=1000)]], Field(min_length=2, max_length=10)
    ] = Field(default=[50, 50], description="Relative weight of each branch, b0, b1, ...")

    @model_validator(mode="after")
    def _positive(self) -> RandomSplit:
        if sum(self.weights) <= 0:
            raise ValueError("at least one branch needs a weight")
        return self


def choose_branch(config: RandomSplit, node_key: str, contact_id: int) -> str:
    return f"b{split_branch(contact_id, node_key, config.weights)}"


def split_branches(config: RandomSplit) -> int:
    return len(config.weights)


TYPES = (
    EventType(
        "contact.field_value",
        Kind.CONDITION,
        "Field value",
        "Compare a contact field (core or custom) with a value, relative dates included, "
        "in the contact's timezone.",
        FieldValue,
        to_filter=field_value_filter,
    ),
    EventType(
        "contact.tags",
        Kind.CONDITION,
        "Has tags",
        "Has any, all or none of the tags.",
        HasTags,
        to_filter=tags_filter,
    ),
    EventType(
        "contact.segments",
        Kind.CONDITION,
        "In segments",
        "Member of any of the segments (or of none).",
        InSegments,
        to_filter=segments_filter,
        references={"segments": "segment"},
    ),
    EventType(
        "contact.points",
        Kind.CONDITION,
        "Points",
        "Compare the contact's points.",
        Points,
        to_filter=points_filter,
    ),
    EventType(
        "contact.stage",
        Kind.CONDITION,
        "Stage",
        "In one of the stages.",
        InStages,
        to_filter=stages_filter,
        references={"stages": "stage"},
    ),
    EventType(
        "contact.owner",
        Kind.CONDITION,
        "Owner",
        "Owned by one of the users.",
        OwnedBy,
        to_filter=owner_filter,
        references={"owners": "user"},
    ),
    EventType(
        "contact.dnc",
        Kind.CONDITION,
        "Do not contact",
        "On the Do Not Contact list of a channel (optionally for a reason).",
        OnDnc,
        to_filter=dnc_filter,
    ),
    EventType(
        "contact.campaigns",
        Kind.CONDITION,
        "In campaigns",
        "An active member of any of the campaigns.",
        InCampaigns,
        to_filter=campaigns_filter,
        references={"campaigns": "campaign"},
    ),
    EventType(
        "contact.valid_email",
        Kind.CONDITION,
        "Has a valid email address",
        "The contact has a syntactically valid email address.",
        ValidEmail,
        to_filter=valid_email_filter,
    ),
    EventType(
        "condition.group",
        Kind.CONDITION,
        "Several criteria",
        "Several criteria joined by AND / OR in one step.",
        ConditionGroup,
        to_filter=group_filter,
        group="Logic",
    ),
    EventType(
        "condition.random_split",
        Kind.CONDITION,
        "Random split",
        "Send contacts down weighted branches at random; a contact always gets the same branch.",
        RandomSplit,
        choose=choose_branch,
        branches=split_branches,
        group="Logic",
    ),
)
