"""The contract of a campaign event type, and the ports through which actions touch the world.

Every type declares its kind, a dotted key, a pydantic ``Config`` (whose JSON Schema the builder
renders and the API validates with) and a batch handler. Handlers never import the database or
the domains: the runtime hands them ports.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from trellis.engine.graph import Kind


class EventConfig(BaseModel):
    """Base of every event type's settings: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")


class OutcomeStatus(StrEnum):
    DONE = "done"
    # Done, with something to say (no email address, on DNC): the flow continues, no retry.
    WARNED = "warned"
    # Retried with backoff until the attempts run out; then dead.
    FAILED = "failed"


@dataclass(frozen=True)
class Outcome:
    status: OutcomeStatus = OutcomeStatus.DONE
    reason: str = ""

    @classmethod
    def warn(cls, reason: str) -> Outcome:
        return cls(OutcomeStatus.WARNED, reason)

    @classmethod
    def fail(cls, reason: str) -> Outcome:
        return cls(OutcomeStatus.FAILED, reason)


DONE = Outcome()


@dataclass(frozen=True)
class HttpResult:
    status: int | None
    error: str = ""
    body_excerpt: str = ""


class ContactsPort(Protocol):
    async def update_fields(
        self, contact_ids: Sequence[int], values: Mapping[str, Any]
    ) -> Mapping[int, str]: ...

    async def change_points(self, contact_ids: Sequence[int], delta: int, reason: str) -> None: ...

    async def change_tags(
        self, contact_ids: Sequence[int], add: Sequence[str], remove: Sequence[str]
    ) -> None: ...

    async def change_segments(
        self, contact_ids: Sequence[int], add: Sequence[int], remove: Sequence[int]
    ) -> None: ...

    async def add_dnc(
        self, contact_ids: Sequence[int], channels: Sequence[str], reason: str, comment: str
    ) -> None: ...

    async def remove_dnc(self, contact_ids: Sequence[int], channels: Sequence[str]) -> None: ...

    async def set_owner(self, contact_ids: Sequence[int], owner_id: int | None) -> None: ...

    async def set_stage(self, contact_ids: Sequence[int], stage_id: int | None) -> None: ...

    async def set_company(
        self, contact_ids: Sequence[int], company_id: int, primary: bool
    ) -> None: ...

    async def delete(self, contact_ids: Sequence[int]) -> None: ...

    async def anonymise(self, contact_ids: Sequence[int], fields: Sequence[str]) -> None: ...

    async def values(self, contact_ids: Sequence[int]) -> Mapping[int, Mapping[str, Any]]: ...


class CampaignsPort(Protocol):
    async def add(self, campaign_ids: Sequence[int], contact_ids: Sequence[int]) -> None: ...

    async def remove(self, campaign_ids: Sequence[int], contact_ids: Sequence[int]) -> None: ...

    async def jump(self, target_key: str, contact_ids: Sequence[int]) -> None: ...


class FiltersPort(Protocol):
    async def matching(
        self, filters: Mapping[str, Any], contact_ids: Sequence[int]
    ) -> set[int]: ...


class HttpPort(Protocol):
    async def send(
        self,
        *,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: str | None,
        timeout_s: float,
    ) -> HttpResult: ...


@dataclass(frozen=True)
class EmailRequest:
    """One email step: which email, and the rules it is sent under."""

    email_id: int
    kind: str = "marketing"  # marketing | transactional
    # Marketing only: send again to contacts who already received this email.
    allow_repeat: bool = False
    # Marketing only, over the frequency cap: "defer" until it allows, or "skip".
    over_cap: str = "defer"


@dataclass(frozen=True)
class QueuedEmail:
    """What became of one contact's message: queued (or deferred, queued for later), or
    skipped with the reason."""

    status: str  # queued | deferred | skipped
    reason: str = ""


class MailerPort(Protocol):
    async def send(
        self,
        request: EmailRequest,
        contact_ids: Sequence[int],
        *,
        campaign_id: int,
        event_id: int,
        rotations: Mapping[int, int],
    ) -> Mapping[int, QueuedEmail]: ...

    async def notify(
        self,
        *,
        email_id: int,
        contact_ids: Sequence[int],
        to_owner: bool,
        user_ids: Sequence[int],
        addresses: Sequence[str],
        campaign_id: int,
        event_id: int,
    ) -> Mapping[int, QueuedEmail]: ...


class NoMailer:
    """Until a runtime provides email, every message is skipped with the reason."""

    REASON = "Email is not configured in this process."

    async def send(
        self,
        request: EmailRequest,
        contact_ids: Sequence[int],
        *,
        campaign_id: int,
        event_id: int,
        rotations: Mapping[int, int],
    ) -> Mapping[int, QueuedEmail]:
        return dict.fromkeys(contact_ids, QueuedEmail("skipped", self.REASON))

    async def notify(
        self,
        *,
        email_id: int,
        contact_ids: Sequence[int],
        to_owner: bool,
        user_ids: Sequence[int],
        addresses: Sequence[str],
        campaign_id: int,
        event_id: int,
    ) -> Mapping[int, QueuedEmail]:
        return dict.fromkeys(contact_ids, QueuedEmail("skipped", self.REASON))


@dataclass(frozen=True)
class Ports:
    contacts: ContactsPort
    campaigns: CampaignsPort
    filters: FiltersPort
    http: HttpPort
    mail: MailerPort = field(default_factory=NoMailer)


@dataclass(frozen=True)
class StepContext:
    """One event executing for a batch of contacts."""

    campaign_id: int
    event_id: int
    event_key: str
    event_name: str
    now: datetime
    ports: Ports
    rotations: Mapping[int, int] = field(default_factory=dict)

    def idempotency_key(self, contact_id: int) -> str:
        """The same for every attempt of this step for this contact, so that a receiver can
        drop the duplicate of a retried call."""
        rotation = self.rotations.get(contact_id, 1)
        return f"trellis:{self.campaign_id}:{self.event_key}:{contact_id}:{rotation}"


@dataclass(frozen=True)
class Behaviour:
    """Something a contact did, offered to waiting decisions."""

    kind: str
    name: str = ""
    properties: Mapping[str, Any] = field(default_factory=dict)
    channel_id: int | None = None
    url: str | None = None


ActionHandler = Callable[[StepContext, Any, list[int]], Awaitable[Mapping[int, Outcome]]]
ConditionFilter = Callable[[Any], Mapping[str, Any]]
ConditionEvaluator = Callable[[StepContext, Any, list[int]], Awaitable[set[int]]]
SplitChooser = Callable[[Any, str, int], str]
DecisionMatcher = Callable[[Any, Behaviour], bool]


@dataclass(frozen=True)
class EventType:
    key: str
    kind: Kind
    label: str
    description: str
    config: type[EventConfig]
    group: str = "Contact"
    # Actions
    run: ActionHandler | None = None
    external: bool = False
    leaf: bool = False
    jumps: bool = False
    # The action may take contacts out of the campaign running it (the flow stops for them).
    ends_membership: bool = False
    # Conditions: a segment filter document compiled to SQL, or an evaluator, or a split.
    to_filter: ConditionFilter | None = None
    evaluate: ConditionEvaluator | None = None
    choose: SplitChooser | None = None
    branches: Callable[[Any], int] | None = None
    # Decisions
    behaviour: str | None = None
    matches: DecisionMatcher | None = None
    parent_types: frozenset[str] = frozenset()
    # Config fields naming other entities, for validation and import remapping:
    # {"segments": "segment", "owner_id": "user", "campaigns": "campaign", ...}
    references: Mapping[str, str] = field(default_factory=dict)

    def schema(self) -> dict[str, Any]:
        return self.config.model_json_schema()
