"""Actions on campaign membership and on the contact's place in this campaign."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import Field, model_validator

from trellis.engine.graph import Kind
from trellis.events.base import EventConfig, EventType, Outcome, StepContext

CampaignRef = Annotated[int, Field(ge=1)] | Literal["this"]


class ChangeCampaigns(EventConfig):
    add: Annotated[list[CampaignRef], Field(max_length=50)] = []
    remove: Annotated[list[CampaignRef], Field(max_length=50)] = []

    @model_validator(mode="after")
    def _something(self) -> ChangeCampaigns:
        if not self.add and not self.remove:
            raise ValueError("add to or remove from at least one campaign")
        return self


async def change_campaigns(
    ctx: StepContext, config: ChangeCampaigns, ids: list[int]
) -> Mapping[int, Outcome]:
    def resolve(refs: list[int | Literal["this"]]) -> list[int]:
        return [ctx.campaign_id if ref == "this" else ref for ref in refs]

    if config.remove:
        await ctx.ports.campaigns.remove(resolve(config.remove), ids)
    if config.add:
        await ctx.ports.campaigns.add(resolve(config.add), ids)
    return {}


class JumpToEvent(EventConfig):
    target: str = Field(description="The key (uuid) of the step of this campaign to jump to.")


async def jump_to_event(
    ctx: StepContext, config: JumpToEvent, ids: list[int]
) -> Mapping[int, Outcome]:
    await ctx.ports.campaigns.jump(config.target, ids)
    return {}


TYPES = (
    EventType(
        "campaign.change_campaigns",
        Kind.ACTION,
        "Change campaigns",
        "Add the contact to campaigns, or remove it ('this' is this campaign; adding to "
        "this campaign restarts it and needs a delay of at least 30 minutes).",
        ChangeCampaigns,
        run=change_campaigns,
        ends_membership=True,
        group="Campaign",
        references={"add": "campaign", "remove": "campaign"},
    ),
    EventType(
        "campaign.jump_to_event",
        Kind.ACTION,
        "Jump to step",
        "Continue at another step of this campaign (a new pass through it). Nothing can "
        "follow this step.",
        JumpToEvent,
        run=jump_to_event,
        leaf=True,
        jumps=True,
        group="Campaign",
    ),
)
