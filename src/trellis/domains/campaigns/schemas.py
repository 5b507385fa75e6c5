"""The campaign document: the same JSON in the API, the builder and the export file."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from trellis.schemas import EntityId, InputModel

Key = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Reactivation = Literal["count_all_time", "restart_on_publish", "count_only_while_published"]


class TimingDoc(InputModel):
    mode: Literal["immediate", "interval", "date", "relative"] = "immediate"
    amount: Annotated[int, Field(ge=0, le=100_000)] = 0
    unit: Literal["minute", "hour", "day", "week", "month", "year"] = "day"
    at_hour: time | None = Field(default=None, description="Hour of day in the contact's timezone.")
    window_start: time | None = None
    window_end: time | None = None
    weekdays: Annotated[list[Annotated[int, Field(ge=0, le=6)]], Field(max_length=7)] = Field(
        default_factory=list, description="Allowed days, 0 = Monday ... 6 = Sunday."
    )
    at: datetime | None = Field(default=None, description="For mode 'date'.")
    field: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")] | None = Field(
        default=None, description="For mode 'relative': a contact date field."
    )
    offset_days: Annotated[int, Field(ge=-3650, le=3650)] = 0

    @field_validator("at_hour", "window_start", "window_end")
    @classmethod
    def _minutes(cls, value: time | None) -> time | None:
        return value.replace(second=0, microsecond=0, tzinfo=None) if value else value


class EventDoc(InputModel):
    key: Key = Field(description="Stable key (a uuid for events made by Trellis).")
    type: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    name: Annotated[str, StringConstraints(max_length=200)] = ""
    description: Annotated[str, StringConstraints(max_length=2000)] = ""
    config: dict[str, Any] = Field(default_factory=dict)
    timing: TimingDoc = Field(default_factory=TimingDoc)


class EdgeDoc(InputModel):
    source: Key | None = Field(default=None, description="None: from the campaign's sources.")
    target: Key
    path: Annotated[str, StringConstraints(pattern=r"^(yes|no|b[0-9])$")] | None = None


class SourceDoc(InputModel):
    kind: Literal["segment", "form"]
    id: EntityId
    audience: Literal["live", "locked"] = "live"
    locked_at: datetime | None = Field(
        default=None,
        description="Locked audience: only contacts in the segment at this time "
        "(default: when the campaign is published).",
    )


class CampaignWrite(InputModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    description: Annotated[str, StringConstraints(max_length=5000)] = ""
    projects: Annotated[list[EntityId], Field(max_length=100)] = Field(default_factory=list)
    publish_up: datetime | None = None
    publish_down: datetime | None = None
    allow_restart: bool = False
    reactivation: Reactivation = "count_all_time"
    exit_on_source_leave: bool = True
    default_timezone: Annotated[str, StringConstraints(max_length=64)] | None = None
    sources: Annotated[list[SourceDoc], Field(max_length=50)] = Field(default_factory=list)
    events: Annotated[list[EventDoc], Field(max_length=500)] = Field(default_factory=list)
    edges: Annotated[list[EdgeDoc], Field(max_length=1000)] = Field(default_factory=list)
    canvas: dict[str, Any] = Field(default_factory=dict)


class DeletedStepChoice(InputModel):
    redirect_to: Key | None = Field(default=None, description="Continue contacts here.")
    cancel: bool = False


class CampaignSave(CampaignWrite):
    on_delete: dict[str, DeletedStepChoice] = Field(
        default_factory=dict,
        description="For steps removed while contacts wait on them: redirect or cancel.",
    )


class EventStatsRead(BaseModel):
    scheduled: int = 0
    waiting: int = 0
    done: int = 0
    warned: int = 0
    failed: int = 0
    dead: int = 0
    yes: int = 0
    no: int = 0
    cancelled: int = 0


class EventRead(BaseModel):
    key: str
    id: int
    type: str
    kind: str
    name: str
    description: str
    config: dict[str, Any]
    timing: dict[str, Any]
    timing_label: str


class CampaignRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    uuid: str
    name: str
    description: str
    projects: list[int] = []
    is_published: bool
    publish_up: datetime | None
    publish_down: datetime | None
    allow_restart: bool
    reactivation: str
    exit_on_source_leave: bool
    default_timezone: str | None
    sources: list[SourceDoc] = []
    events: list[EventRead] = []
    edges: list[EdgeDoc] = []
    canvas: dict[str, Any]
    paused_reason: str | None
    members: int = 0
    created_at: datetime
    updated_at: datetime
    last_published_at: datetime | None
    version: int


class CampaignSummary(BaseModel):
    id: int
    uuid: str
    name: str
    description: str
    is_published: bool
    paused_reason: str | None
    members: int
    projects: list[int]
    updated_at: datetime
    version: int


class ValidationReport(BaseModel):
    valid: bool
    errors: list[dict[str, str]]


class MembersChange(InputModel):
    contact_ids: Annotated[list[EntityId], Field(min_length=1, max_length=1000)]


class MembersChangeResult(BaseModel):
    added: list[int] = []
    restarted: list[int] = []
    removed: list[int] = []
    rejected: dict[int, str] = {}


class MemberRead(BaseModel):
    contact_id: int
    campaign_id: int | None = Field(default=None, description="Set in a contact's list.")
    email: str | None
    name: str
    rotation: int
    status: str
    manually_added: bool
    joined_at: datetime
    left_at: datetime | None
    current_steps: list[str] = []
    waiting_on: list[CurrentStep] = Field(
        default_factory=list, description="The open steps with their due times (members list)."
    )


class JourneyStep(BaseModel):
    event_key: str
    event_name: str
    type: str
    rotation: int
    status: str
    due_at: datetime | None
    reached_at: datetime
    done_at: datetime | None
    attempts: int
    detail: dict[str, Any] | None


class Journey(BaseModel):
    campaign_id: int
    contact_id: int
    member: MemberRead | None
    steps: list[JourneyStep]


class StepChange(InputModel):
    action: Literal["reschedule", "cancel", "retry"]
    due_at: datetime | None = None


class TrackEvent(InputModel):
    contact_id: EntityId | None = None
    email: Annotated[str, StringConstraints(max_length=320)] | None = None
    name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,100}$")]
    properties: Annotated[dict[str, Any], Field(max_length=100)] = Field(default_factory=dict)
    occurred_at: datetime | None = None


class TrackResult(BaseModel):
    contact_id: int
    decisions_taken: int


class EventTypeRead(BaseModel):
    key: str
    kind: str
    label: str
    description: str
    group: str
    leaf: bool
    external: bool
    jumps: bool
    parent_types: list[str]
    behaviour: str | None
    references: dict[str, str] = Field(
        default_factory=dict,
        description="Config fields that name other things, and what: segment, user, stage, "
        "company, campaign, email (the builder shows a picker for them).",
    )
    schema_: dict[str, Any] = Field(alias="schema")

    model_config = ConfigDict(populate_by_name=True)


class TriggerSummary(BaseModel):
    campaigns: int = 0
    joined: int = 0
    exited: int = 0
    executed: int = 0
    # The executed steps by event type, e.g. {"contact.change_points": 10000}.
    steps: dict[str, int] = Field(default_factory=dict)
    scheduled: int = 0
    waiting: int = 0
    failed: int = 0
    dead: int = 0
    decisions_expired: int = 0
    seconds: float = 0.0


# -- the campaign pages ---------------------------------------------------------------------


class CurrentStep(BaseModel):
    """A step a member waits on: scheduled (with its due time), waiting (a decision, until its
    deadline, if any) or running."""

    event_key: str
    event_name: str
    type: str
    status: Literal["scheduled", "waiting", "running"]
    due_at: datetime | None


class PreviewSource(BaseModel):
    kind: Literal["segment"]
    id: int
    name: str
    audience: Literal["live", "locked"]
    count: int = Field(description="Contacts of the segment this source admits now.")


class PublishPreview(BaseModel):
    entering_now: int = Field(
        description="Contacts who would enter if the campaign were published now: in a source, "
        "counted once, leaving out members who may not enter again."
    )
    sources: list[PreviewSource]


class FailureRead(BaseModel):
    contact_id: int
    email: str | None
    name: str
    event_key: str
    event_name: str
    type: str
    rotation: int
    status: Literal["failed", "dead"] = Field(
        description="failed: waiting for its next attempt; dead: out of attempts."
    )
    attempts: int
    reason: str | None
    reached_at: datetime
    failed_at: datetime | None = Field(description="When a dead step gave up.")
    next_attempt_at: datetime | None = Field(description="When a failed step is tried again.")
