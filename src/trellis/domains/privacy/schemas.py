from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, IPvAnyAddress, StringConstraints

from trellis.schemas import InputModel

PolicyName = Literal[
    "anonymous_visitors",
    "tracking_events",
    "journeys",
    "outbox",
    "form_ips",
    "audit_log",
    "import_files",
    "inactive_contacts",
]
Purpose = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
]
ConsentSource = Literal["form", "api", "import", "preferences", "manual"]


class CleanupRunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    policy: str
    dry_run: bool
    trigger: str
    status: Literal["queued", "running", "done", "failed"]
    started_at: datetime
    finished_at: datetime | None
    cutoff: datetime
    rows: int = Field(description="Rows removed or changed (a dry run: that would be).")
    details: dict[str, int] = Field(description="Rows per table.")
    seconds: float
    error: str | None


class RetentionPolicyRead(BaseModel):
    name: PolicyName
    label: str
    description: str
    enabled: bool
    period: int
    unit: Literal["days", "months"]
    modes: list[str] = Field(description="The choices of what happens, when there is one.")
    mode: str | None
    default_enabled: bool
    default_period: int
    default_mode: str | None
    last_run: CleanupRunRead | None


class RetentionPolicyUpdate(InputModel):
    enabled: bool | None = None
    period: int | None = Field(default=None, ge=1, le=36_500)
    mode: str | None = None


class CleanupRequest(InputModel):
    policies: list[PolicyName] | None = Field(
        default=None, description="The policies to run; default: every enabled one."
    )
    dry_run: bool = Field(default=False, description="Count what would go; change nothing.")


class CleanupRuns(BaseModel):
    data: list[CleanupRunRead]
    total: int


class ErasureResult(BaseModel):
    contact_id: int
    suppressed: bool = Field(
        description="The address is on the suppression list: an import, form or API upsert of "
        "it does not bring the person back unless they opt in again."
    )


class ConsentChange(InputModel):
    purpose: Purpose
    granted: bool = Field(description="True: given; false: withdrawn.")
    wording: Annotated[str, StringConstraints(max_length=10_000)] = Field(
        default="", description="The exact text the person was shown."
    )
    wording_version: Annotated[str, StringConstraints(max_length=40)] = ""
    source: ConsentSource = "api"
    ip: IPvAnyAddress | None = Field(
        default=None,
        description="The person's network address where they answered (your site saw it); "
        "kept truncated when IP anonymisation is on, and removed after the IP policy's period.",
    )


class ConsentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    contact_id: int
    purpose: str
    granted: bool
    wording: str
    wording_version: str
    source: str
    source_id: int | None
    ip: str | None
    occurred_at: datetime


class ConsentHistory(BaseModel):
    data: list[ConsentRead]
    total: int
    current: dict[str, bool] = Field(description="Per purpose, whether consent stands now.")


class SuppressionLift(InputModel):
    email: Annotated[str, StringConstraints(min_length=3, max_length=320)]


class SuppressionLifted(BaseModel):
    lifted: bool
