from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from trellis.schemas import EntityId, InputModel

TagName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Tags = Annotated[list[TagName], Field(max_length=200)]
CustomValues = Annotated[dict[str, Any], Field(max_length=500)]
Channel = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,19}$")]
DncReason = Literal["unsubscribed", "bounced", "complaint", "manual"]
MAX_BATCH = 1000


class ContactFields(InputModel):
    """The core fields; every one optional, an empty string clears a value."""

    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    mobile: str | None = None
    position: str | None = None
    company_name: str | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    state: str | None = None
    zipcode: str | None = None
    country: str | None = None
    timezone: str | None = None
    locale: str | None = None
    website: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_content: str | None = None
    utm_term: str | None = None
    owner_id: EntityId | None = None
    stage_id: EntityId | None = None
    fields: CustomValues = Field(default_factory=dict, description="Custom field values by alias.")


class ContactCreate(ContactFields):
    tags: Tags = Field(default_factory=list)
    points: Annotated[int, Field(ge=-1_000_000_000, le=1_000_000_000)] = 0
    projects: Annotated[list[EntityId], Field(max_length=100)] = Field(default_factory=list)


class ContactUpdate(ContactFields):
    tags: Tags | None = Field(default=None, description="Replaces all tags.")
    add_tags: Tags = Field(default_factory=list)
    remove_tags: Tags = Field(default_factory=list)


class ContactUpsert(ContactFields):
    """One item of a batch upsert: found by email or an identifying field, else created.

    Given fields overwrite; tags are added, never removed.
    """

    tags: Tags = Field(default_factory=list)


class BatchUpsert(InputModel):
    contacts: Annotated[list[ContactUpsert], Field(min_length=1, max_length=MAX_BATCH)]


class ItemError(BaseModel):
    pointer: str
    detail: str
    code: str = "invalid_value"


class UpsertResult(BaseModel):
    index: int
    status: Literal["created", "updated", "unchanged", "refused", "failed"] = Field(
        description="refused: the item matches a contact you may not change, or gives a "
        "contact to another user; nothing was changed."
    )
    id: int | None = None
    errors: list[ItemError] = []


class BatchUpsertResult(BaseModel):
    created: int
    updated: int
    unchanged: int
    refused: int = 0
    failed: int
    results: list[UpsertResult]


class DncEntry(BaseModel):
    channel: str
    reason: str
    comment: str = ""
    created_at: datetime


class CompanyLink(BaseModel):
    id: int
    name: str
    is_primary: bool


class ContactRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str | None
    first_name: str | None
    last_name: str | None
    phone: str | None
    mobile: str | None
    position: str | None
    company_name: str | None
    address1: str | None
    address2: str | None
    city: str | None
    state: str | None
    zipcode: str | None
    country: str | None
    timezone: str | None
    locale: str | None
    website: str | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_content: str | None
    utm_term: str | None
    owner_id: int | None
    stage_id: int | None
    points: int
    fields: dict[str, Any]
    tags: list[str] = []
    dnc: list[DncEntry] = []
    companies: list[CompanyLink] = []
    is_anonymous: bool
    created_at: datetime
    updated_at: datetime
    last_active_at: datetime | None
    version: int


class PointsChangeRequest(InputModel):
    delta: Annotated[int, Field(ge=-1_000_000, le=1_000_000)]
    reason: Annotated[str, StringConstraints(max_length=255)] = ""


class DncRequest(InputModel):
    channel: Channel = "email"
    reason: DncReason = "manual"
    comment: Annotated[str, StringConstraints(max_length=1000)] = ""


class MergeRequest(InputModel):
    other_id: EntityId = Field(description="The contact merged into this one and removed.")


class CompanyLinkRequest(InputModel):
    company_id: EntityId
    is_primary: bool = False


class TagRead(BaseModel):
    id: int
    name: str
    contacts: int


class TagRename(InputModel):
    name: TagName


class ActivityItem(BaseModel):
    occurred_at: datetime
    kind: str
    summary: str
    details: dict[str, Any] = {}
    source_type: str | None = None
    source_id: int | None = None
    actor_name: str | None = None


class ActivityPage(BaseModel):
    data: list[ActivityItem]
    next_before: datetime | None = Field(
        description="Pass as ?before= for the next page; None when there is no more."
    )


class BulkAction(InputModel):
    """One change to many contacts at once (the list's bulk actions)."""

    contact_ids: Annotated[list[EntityId], Field(min_length=1, max_length=MAX_BATCH)]
    action: Literal["add_tags", "remove_tags", "delete", "add_dnc", "remove_dnc"]
    tags: Tags = Field(default_factory=list)
    channel: Channel = "email"


class BulkResult(BaseModel):
    affected: int
    missing: list[int] = Field(default=[], description="Contacts that do not exist (for you).")
    refused: list[int] = Field(
        default=[], description="Contacts you may see but not change: left as they were."
    )
