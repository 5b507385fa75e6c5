from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

MAX_EVENTS = 1000
Category = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60, pattern=r"^[^<>]+$")
]


class LinkStats(BaseModel):
    url: str
    clicks: int
    unique_clicks: int


class EmailStatsRead(BaseModel):
    email_id: int
    sent: int = Field(description="Messages handed to the transport.")
    queued: int = Field(description="Waiting to go (including deferred ones).")
    failed: int
    skipped: int = Field(description="Not sent because of a rule (DNC, cap, already received).")
    delivered: int = Field(description="Confirmed by the provider (webhook or DSN).")
    opens: int
    unique_opens: int
    clicks: int
    unique_clicks: int
    unsubscribes: int
    bounces: int
    hard_bounces: int
    complaints: int
    links: list[LinkStats]


class EmailEventIn(BaseModel):
    """One event from a mail provider's webhook, in Trellis' generic shape."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["bounce", "complaint", "delivered"]
    message_id: Annotated[str, StringConstraints(max_length=250)] | None = Field(
        default=None,
        description="The Message-ID the message went out with (angle brackets or not).",
    )
    send_id: int | None = Field(default=None, ge=1, description="Trellis' send id, if known.")
    email: Annotated[str, StringConstraints(max_length=320)] | None = Field(
        default=None, description="The recipient; used alone when no message is named."
    )
    bounce_type: Literal["hard", "soft"] = Field(
        default="hard", description="For bounces: permanent (hard) or temporary (soft)."
    )
    reason: Annotated[str, StringConstraints(max_length=1000)] = ""
    occurred_at: datetime | None = None

    @model_validator(mode="after")
    def _names_something(self) -> EmailEventIn:
        if self.message_id is None and self.send_id is None and not self.email:
            raise ValueError("Name the message (message_id or send_id) or the recipient (email).")
        return self


class EmailEventsResult(BaseModel):
    accepted: int = Field(description="Events that matched a message or a contact.")
    unmatched: list[int] = Field(description="Indexes of events that matched nothing.")
    dnc_added: int = Field(description="Contacts put on Do Not Contact by these events.")


class CategoryRead(BaseModel):
    email_id: int
    category: str | None


class CategoryUpdate(BaseModel):
    category: Category | None = Field(
        description="The subscription category recipients can opt out of; null: none."
    )
