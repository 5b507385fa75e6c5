"""Actions on contact data. Each runs as a few set-based statements for the whole batch."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

from trellis.engine.graph import Kind
from trellis.events.base import EventConfig, EventType, Outcome, StepContext

Tag = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Channel = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,19}$")]
Id = Annotated[int, Field(ge=1)]


class UpdateFields(EventConfig):
    values: Annotated[dict[str, Any], Field(min_length=1, max_length=100)] = Field(
        description="Field alias to value; an empty value clears the field."
    )


async def update_fields(
    ctx: StepContext, config: UpdateFields, ids: list[int]
) -> Mapping[int, Outcome]:
    problems = await ctx.ports.contacts.update_fields(ids, config.values)
    return {cid: Outcome.warn(reason) for cid, reason in problems.items()}


class ChangePoints(EventConfig):
    delta: Annotated[int, Field(ge=-1_000_000, le=1_000_000)] = Field(
        description="Points to add; negative to subtract."
    )


async def change_points(
    ctx: StepContext, config: ChangePoints, ids: list[int]
) -> Mapping[int, Outcome]:
    await ctx.ports.contacts.change_points(ids, config.delta, f"Campaign step: {ctx.event_name}")
    return {}


class ChangeTags(EventConfig):
    add: Annotated[list[Tag], Field(max_length=50)] = []
    remove: Annotated[list[Tag], Field(max_length=50)] = []

    @model_validator(mode="after")
    def _something(self) -> ChangeTags:
        if not self.add and not self.remove:
            raise ValueError("add or remove at least one tag")
        return self


async def change_tags(
    ctx: StepContext, config: ChangeTags, ids: list[int]
) -> Mapping[int, Outcome]:
    await ctx.ports.contacts.change_tags(ids, config.add, config.remove)
    return {}


class ChangeSegments(EventConfig):
    add: Annotated[list[Id], Field(max_length=50)] = []
    remove: Annotated[list[Id], Field(max_length=50)] = []

    @model_validator(mode="after")
    def _something(self) -> ChangeSegments:
        if not self.add and not self.remove:
            raise ValueError("add to or remove from at least one segment")
        return self


async def change_segments(
    ctx: StepContext, config: ChangeSegments, ids: list[int]
) -> Mapping[int, Outcome]:
    await ctx.ports.contacts.change_segments(ids, config.add, config.remove)
    return {}


DncReason = Literal["unsubscribed", "bounced", "complaint", "manual"]


class AddDnc(EventConfig):
    channels: Annotated[list[Channel], Field(min_length=1, max_length=10)] = ["email"]
    reason: DncReason = "manual"
    comment: Annotated[str, StringConstraints(max_length=500)] = ""


async def add_dnc(ctx: StepContext, config: AddDnc, ids: list[int]) -> Mapping[int, Outcome]:
    await ctx.ports.contacts.add_dnc(ids, config.channels, config.reason, config.comment)
    return {}


class RemoveDnc(EventConfig):
    channels: Annotated[list[Channel], Field(min_length=1, max_length=10)] = ["email"]


async def remove_dnc(ctx: StepContext, config: RemoveDnc, ids: list[int]) -> Mapping[int, Outcome]:
    await ctx.ports.contacts.remove_dnc(ids, config.channels)
    return {}


class ChangeOwner(EventConfig):
    owner_id: Id | None = Field(default=None, description="Empty removes the owner.")


async def change_owner(
    ctx: StepContext, config: ChangeOwner, ids: list[int]
) -> Mapping[int, Outcome]:
    await ctx.ports.contacts.set_owner(ids, config.owner_id)
    return {}


class ChangeStage(EventConfig):
    stage_id: Id | None = Field(default=None, description="Empty removes the stage.")


async def change_stage(
    ctx: StepContext, config: ChangeStage, ids: list[int]
) -> Mapping[int, Outcome]:
    await ctx.ports.contacts.set_stage(ids, config.stage_id)
    return {}


class ChangeCompany(EventConfig):
    company_id: Id
    primary: bool = True


async def change_company(
    ctx: StepContext, config: ChangeCompany, ids: list[int]
) -> Mapping[int, Outcome]:
    await ctx.ports.contacts.set_company(ids, config.company_id, config.primary)
    return {}


class DeleteContact(EventConfig):
    pass


async def delete_contact(
    ctx: StepContext, config: DeleteContact, ids: list[int]
) -> Mapping[int, Outcome]:
    await ctx.ports.contacts.delete(ids)
    return {}


class Anonymise(EventConfig):
    fields: Annotated[list[str], Field(min_length=1, max_length=100)] = Field(
        description="Aliases of the fields to erase (email erases the identity)."
    )


async def anonymise(ctx: StepContext, config: Anonymise, ids: list[int]) -> Mapping[int, Outcome]:
    await ctx.ports.contacts.anonymise(ids, config.fields)
    return {}


TYPES = (
    EventType(
        "contact.update_fields",
        Kind.ACTION,
        "Update contact fields",
        "Set field values; an empty value clears the field.",
        UpdateFields,
        run=update_fields,
    ),
    EventType(
        "contact.change_points",
        Kind.ACTION,
        "Change points",
        "Add or subtract points, with the step recorded in the points history.",
        ChangePoints,
        run=change_points,
    ),
    EventType(
        "contact.change_tags",
        Kind.ACTION,
        "Change tags",
        "Add and remove tags.",
        ChangeTags,
        run=change_tags,
    ),
    EventType(
        "contact.change_segments",
        Kind.ACTION,
        "Add to or remove from segments",
        "Removal sticks: a rebuild never re-adds the contact.",
        ChangeSegments,
        run=change_segments,
        references={"add": "segment", "remove": "segment"},
    ),
    EventType(
        "contact.add_dnc",
        Kind.ACTION,
        "Do not contact",
        "Stop marketing on the chosen channels.",
        AddDnc,
        run=add_dnc,
    ),
    EventType(
        "contact.remove_dnc",
        Kind.ACTION,
        "Allow contact again",
        "Lift Do Not Contact on the chosen channels.",
        RemoveDnc,
        run=remove_dnc,
    ),
    EventType(
        "contact.change_owner",
        Kind.ACTION,
        "Change owner",
        "Assign the contact to a user.",
        ChangeOwner,
        run=change_owner,
        references={"owner_id": "user"},
    ),
    EventType(
        "contact.change_stage",
        Kind.ACTION,
        "Change stage",
        "Move the contact to a stage.",
        ChangeStage,
        run=change_stage,
        references={"stage_id": "stage"},
    ),
    EventType(
        "contact.change_company",
        Kind.ACTION,
        "Change company",
        "Link the contact to a company, as its primary company by default.",
        ChangeCompany,
        run=change_company,
        references={"company_id": "company"},
    ),
    EventType(
        "contact.delete",
        Kind.ACTION,
        "Delete contact",
        "Delete the contact for good. Nothing can follow this step.",
        DeleteContact,
        run=delete_contact,
        leaf=True,
    ),
    EventType(
        "contact.anonymise",
        Kind.ACTION,
        "Anonymise contact",
        "Erase the chosen fields (GDPR erasure) and keep the anonymous history.",
        Anonymise,
        run=anonymise,
    ),
)
