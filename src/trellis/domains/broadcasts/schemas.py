"""Segment broadcasts: the request and response models of the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from trellis.schemas import EntityId, InputModel

BroadcastName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
AudienceMode = Literal["locked", "live"]
OverCap = Literal["skip", "defer"]
BroadcastStatus = Literal["draft", "scheduled", "sending", "sent", "cancelled"]
RecipientStatus = Literal["pending", "queued", "sending", "sent", "failed", "skipped", "cancelled"]
SegmentIds = Annotated[list[EntityId], Field(max_length=100)]


class BroadcastCreate(InputModel):
    name: BroadcastName
    email_id: EntityId = Field(description="A published email of kind 'broadcast'.")
    segment_ids: SegmentIds = Field(
        min_length=1, description="Contacts in any of these segments are the audience."
    )
    excluded_segment_ids: SegmentIds = Field(
        default_factory=list, description="Contacts in any of these segments are left out."
    )
    audience_mode: AudienceMode = Field(
        default="locked",
        description=(
            "locked: only the members at the start; live: also contacts who join the "
            "segments until the stop time."
        ),
    )
    start_at: datetime | None = Field(
        default=None, description="When sending starts; null: as soon as it is scheduled."
    )
    stop_at: datetime | None = Field(
        default=None, description="Live audiences only (and required there): when to stop."
    )
    over_cap: OverCap = Field(
        default="skip",
        description="A contact at the frequency cap: skip them, or defer until the cap allows.",
    )


class BroadcastUpdate(InputModel):
    name: BroadcastName | None = None
    email_id: EntityId | None = None
    segment_ids: SegmentIds | None = None
    excluded_segment_ids: SegmentIds | None = None
    audience_mode: AudienceMode | None = None
    start_at: datetime | None = None
    stop_at: datetime | None = None
    over_cap: OverCap | None = None


class BroadcastCounts(BaseModel):
    audience: int = Field(description="Contacts in the audience so far.")
    pending: int = Field(description="Not queued yet, or queued and not delivered yet.")
    sent: int
    failed: int
    skipped: int = Field(
        description="Refused by a rule: Do Not Contact, an opt-out, the frequency cap, ..."
    )
    cancelled: int = Field(description="Never sent because the broadcast was cancelled.")


class BroadcastRead(BaseModel):
    id: int
    name: str
    email_id: int
    email_name: str
    segment_ids: list[int]
    excluded_segment_ids: list[int]
    audience_mode: AudienceMode
    over_cap: OverCap
    status: BroadcastStatus
    start_at: datetime | None
    stop_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    cancelled_at: datetime | None
    counts: BroadcastCounts
    estimated_audience: int | None = Field(
        description="Before sending starts: how many contacts the segments hold now."
    )
    problem: str | None = Field(
        description="Why nothing goes out at the moment (e.g. the email was unpublished)."
    )
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime
    version: int


class RecipientRead(BaseModel):
    contact_id: int
    email: str | None
    status: RecipientStatus
    reason: str | None
    added_at: datetime
    sent_at: datetime | None


class BroadcastRunRead(BaseModel):
    """What one pass over the due broadcasts did."""

    broadcasts: int = 0
    started: int = 0
    added: int = 0
    queued: int = 0
    skipped: int = 0
    finished: int = 0
