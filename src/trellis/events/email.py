"""Email steps: send an email, notify users about a contact, has a deliverable address, and
the decisions on opens and clicks.

Sending queues the message in the step's own transaction (the send row is the record, written
before any attempt); delivery, with its retries, happens after the commit. So the step itself
never talks to a mail server and runs inline with the rest of the batch.

Opens and clicks are behaviours: the tracking endpoints offer them to waiting decisions the
same way ``POST /api/v2/events`` does, as ``Behaviour(kind="email.open" | "email.click",
channel_id=<email id>, url=<clicked URL>)``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator

from trellis.engine.graph import Kind
from trellis.events.base import (
    Behaviour,
    EmailRequest,
    EventConfig,
    EventType,
    Outcome,
    QueuedEmail,
    StepContext,
)

BEHAVIOUR_OPEN = "email.open"
BEHAVIOUR_CLICK = "email.click"
Id = Annotated[int, Field(ge=1)]
Address = Annotated[
    str, StringConstraints(max_length=320, pattern=r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
]
UrlPattern = Annotated[str, StringConstraints(min_length=1, max_length=2000)]


def _outcomes(queued: Mapping[int, QueuedEmail]) -> dict[int, Outcome]:
    """Queued: done. Deferred or skipped: done with the reason, which the journey shows."""
    return {
        cid: Outcome.warn(result.reason or result.status)
        for cid, result in queued.items()
        if result.status != "queued"
    }


class SendEmail(EventConfig):
    email_id: Id = Field(description="The email to send.")
    kind: Literal["marketing", "transactional"] = Field(
        default="marketing",
        description="Marketing respects Do Not Contact, the frequency cap and goes once to a "
        "contact; transactional ignores all three.",
    )
    allow_repeat: bool = Field(
        default=False,
        description="Marketing: send again to contacts who already received this email.",
    )
    over_cap: Literal["defer", "skip"] = Field(
        default="defer",
        description="Marketing, over the frequency cap: defer until the cap allows, or skip.",
    )


async def send_email(ctx: StepContext, config: SendEmail, ids: list[int]) -> Mapping[int, Outcome]:
    request = EmailRequest(
        email_id=config.email_id,
        kind=config.kind,
        allow_repeat=config.allow_repeat,
        over_cap=config.over_cap,
    )
    queued = await ctx.ports.mail.send(
        request,
        ids,
        campaign_id=ctx.campaign_id,
        event_id=ctx.event_id,
        rotations={cid: ctx.rotations.get(cid, 1) for cid in ids},
    )
    return _outcomes(queued)


class SendToUser(EventConfig):
    email_id: Id = Field(description="The email; its tokens are the contact's fields.")
    to_owner: bool = Field(default=True, description="The contact's owner, when it has one.")
    user_ids: Annotated[list[Id], Field(max_length=50)] = []
    addresses: Annotated[list[Address], Field(max_length=50)] = []

    @field_validator("addresses")
    @classmethod
    def _lower(cls, addresses: list[str]) -> list[str]:
        return [a.strip().lower() for a in addresses]


async def send_to_user(
    ctx: StepContext, config: SendToUser, ids: list[int]
) -> Mapping[int, Outcome]:
    queued = await ctx.ports.mail.notify(
        email_id=config.email_id,
        contact_ids=ids,
        to_owner=config.to_owner,
        user_ids=config.user_ids,
        addresses=config.addresses,
        campaign_id=ctx.campaign_id,
        event_id=ctx.event_id,
    )
    return _outcomes(queued)


class Deliverable(EventConfig):
    pass


def deliverable_filter(config: Deliverable) -> dict[str, Any]:
    # Addresses are validated when written: one that is present has a valid syntax.
    return {
        "match": "all",
        "conditions": [
            {"type": "field", "field": "email", "operator": "not_empty"},
            {
                "type": "dnc",
                "field": "email",
                "operator": "not_on",
                "value": ["bounced", "complaint"],
            },
        ],
    }


class Opened(EventConfig):
    email_id: Id | None = Field(
        default=None, description="Only opens of this email; none: any email."
    )


def opened(config: Opened, behaviour: Behaviour) -> bool:
    if behaviour.kind != BEHAVIOUR_OPEN:
        return False
    return config.email_id is None or behaviour.channel_id == config.email_id


class Clicked(EventConfig):
    email_id: Id | None = Field(
        default=None, description="Only clicks in this email; none: any email."
    )
    urls: Annotated[list[UrlPattern], Field(max_length=50)] = Field(
        default=[],
        description="Only links matching one of these patterns (* matches anything); "
        "none: any link.",
    )


def clicked(config: Clicked, behaviour: Behaviour) -> bool:
    if behaviour.kind != BEHAVIOUR_CLICK:
        return False
    if config.email_id is not None and behaviour.channel_id != config.email_id:
        return False
    if not config.urls:
        return True
    url = behaviour.url or ""
    return any(fnmatch.fnmatchcase(url, pattern) for pattern in config.urls)


TYPES = (
    EventType(
        "email.send",
        Kind.ACTION,
        "Send email",
        "Send an email to the contact. Marketing emails respect Do Not Contact and the "
        "frequency cap and go once to each contact; transactional ones always go.",
        SendEmail,
        run=send_email,
        group="Email",
        references={"email_id": "email"},
    ),
    EventType(
        "email.send_to_user",
        Kind.ACTION,
        "Send email to user",
        "Tell the owner, chosen users or addresses about the contact, for example when a "
        "lead gets hot.",
        SendToUser,
        run=send_to_user,
        group="Email",
        references={"email_id": "email", "user_ids": "user"},
    ),
    EventType(
        "email.deliverable",
        Kind.CONDITION,
        "Has a deliverable address",
        "The contact has a valid email address that has not bounced or complained.",
        Deliverable,
        to_filter=deliverable_filter,
        group="Email",
    ),
    EventType(
        BEHAVIOUR_OPEN,
        Kind.DECISION,
        "Opens email",
        "Waits until the contact opens the email.",
        Opened,
        behaviour=BEHAVIOUR_OPEN,
        matches=opened,
        group="Email",
        references={"email_id": "email"},
    ),
    EventType(
        BEHAVIOUR_CLICK,
        Kind.DECISION,
        "Clicks email link",
        "Waits until the contact clicks a link in the email, optionally one matching a pattern.",
        Clicked,
        behaviour=BEHAVIOUR_CLICK,
        matches=clicked,
        group="Email",
        references={"email_id": "email"},
    ),
)
