"""Forms: the form document (fields, submit actions, success behaviour), submissions and the
field-type catalogue the editor renders."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from trellis.domains.projects.schemas import ProjectIds
from trellis.patterns import MAX_PATTERN_LENGTH, PatternError, check_pattern
from trellis.schemas import EntityId, InputModel

MAX_FIELDS = 100
MAX_ACTIONS = 50
MAX_OPTIONS = 200
MAX_ORIGINS = 50

FieldType = Literal[
    "text",
    "email",
    "textarea",
    "number",
    "date",
    "select",
    "radio",
    "checkbox_group",
    "hidden",
    "consent",
]
ActionType = Literal[
    "segments.add",
    "segments.remove",
    "tags.change",
    "points.change",
    "email.send_to_contact",
    "email.send_to_users",
    "campaigns.add",
    "webhook.send",
]
Alias = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,60}$")]
InputName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,59}$")]
ShortText = Annotated[str, StringConstraints(max_length=200)]
Scalar = str | int | float | bool | None


class OptionDoc(InputModel):
    label: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    value: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class ValidationDoc(InputModel):
    min_length: Annotated[int, Field(ge=0, le=100_000)] | None = None
    max_length: Annotated[int, Field(ge=1, le=100_000)] | None = None
    min: float | None = None
    max: float | None = None
    pattern: Annotated[str, StringConstraints(max_length=MAX_PATTERN_LENGTH)] | None = Field(
        default=None,
        description="A regular expression (RE2 syntax: no backreferences or lookaround) the "
        "whole value must match.",
    )

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern:
            try:
                check_pattern(pattern)
            except PatternError as exc:
                raise ValueError(str(exc)) from None
        return pattern or None


class FieldDoc(InputModel):
    key: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        default=None, description="A stable key for the editor; generated when left out."
    )
    label: Annotated[str, StringConstraints(max_length=500)] = ""
    type: FieldType = "text"
    name: InputName = Field(description="The input name, unique in the form.")
    contact_field: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    required: bool = False
    default: Scalar | list[str] = None
    placeholder: ShortText = ""
    help: Annotated[str, StringConstraints(max_length=1000)] = ""
    options: Annotated[list[OptionDoc], Field(max_length=MAX_OPTIONS)] = []
    validation: ValidationDoc = Field(default_factory=ValidationDoc)
    consent_text: Annotated[str, StringConstraints(max_length=5000)] | None = None
    consent_purpose: (
        Annotated[
            str,
            StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$"),
        ]
        | None
    ) = Field(
        default=None,
        description="For a consent box: the purpose a tick consents to, recorded with the exact "
        "wording (default: marketing).",
    )


class ActionDoc(InputModel):
    type: ActionType
    config: dict[str, Any] = Field(default_factory=dict)


class SuccessDoc(InputModel):
    kind: Literal["message", "redirect"] = "message"
    message: Annotated[str, StringConstraints(max_length=5000)] = "Thank you!"
    redirect_url: Annotated[str, StringConstraints(max_length=2000)] | None = None

    @field_validator("redirect_url")
    @classmethod
    def _http(cls, url: str | None) -> str | None:
        if not url:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("an http:// or https:// URL with a host")
        return url


def normalise_origin(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("an origin such as https://www.example.com")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError("an origin is a scheme, host and optional port, without a path")
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"


Origin = Annotated[
    str, StringConstraints(min_length=1, max_length=300), AfterValidator(normalise_origin)
]


class _FormFields(InputModel):
    @field_validator("allowed_origins", check_fields=False)
    @classmethod
    def _origins(cls, origins: list[str] | None) -> list[str] | None:
        return None if origins is None else list(dict.fromkeys(origins))


class FormCreate(_FormFields):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    description: Annotated[str, StringConstraints(max_length=5000)] = ""
    alias: Alias | None = Field(
        default=None, description="The URL slug (/f/<alias>); made from the name when left out."
    )
    projects: ProjectIds = Field(default_factory=list)
    is_published: bool = False
    identify_by: Annotated[str, StringConstraints(min_length=1, max_length=100)] = "email"
    fields: Annotated[list[FieldDoc], Field(max_length=MAX_FIELDS)] = []
    actions: Annotated[list[ActionDoc], Field(max_length=MAX_ACTIONS)] = []
    success: SuccessDoc = Field(default_factory=SuccessDoc)
    allowed_origins: Annotated[list[Origin], Field(max_length=MAX_ORIGINS)] = []


class FormUpdate(_FormFields):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    description: Annotated[str, StringConstraints(max_length=5000)] | None = None
    alias: Alias | None = None
    projects: ProjectIds | None = None
    is_published: bool | None = None
    identify_by: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    fields: Annotated[list[FieldDoc], Field(max_length=MAX_FIELDS)] | None = None
    actions: Annotated[list[ActionDoc], Field(max_length=MAX_ACTIONS)] | None = None
    success: SuccessDoc | None = None
    allowed_origins: Annotated[list[Origin], Field(max_length=MAX_ORIGINS)] | None = None


class FormClone(InputModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None


class FieldRead(BaseModel):
    key: str
    label: str
    type: FieldType
    name: str
    contact_field: str | None
    required: bool
    default: Scalar | list[str]
    placeholder: str
    help: str
    options: list[OptionDoc]
    validation: ValidationDoc
    consent_text: str | None


class ActionRead(BaseModel):
    type: ActionType
    config: dict[str, Any]


class SuccessRead(BaseModel):
    kind: Literal["message", "redirect"]
    message: str
    redirect_url: str | None


class FormRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    uuid: str
    name: str
    description: str
    alias: str
    projects: list[int] = []
    is_published: bool
    version: int
    created_at: datetime
    updated_at: datetime
    identify_by: str
    fields: list[FieldRead]
    actions: list[ActionRead]
    success: SuccessRead
    allowed_origins: list[str]
    submission_count: int = 0
    last_submission_at: datetime | None = None
    url: str = Field(default="", description="The hosted page.")


class EmbedRead(BaseModel):
    url: str
    script: str
    html: str


class SubmissionRead(BaseModel):
    id: int
    contact_id: int | None
    contact_name: str | None
    values: dict[str, Any]
    consent_text: str | None
    page_url: str | None
    created_at: datetime


class ContactSubmissionRead(SubmissionRead):
    form_id: int
    form_name: str


class FieldTypeRead(BaseModel):
    type: FieldType
    label: str
    attributes: list[str] = Field(description="The FieldDoc attributes that apply to the type.")
    has_options: bool
    maps_to_contact: bool


class SubmitResult(BaseModel):
    ok: bool = True
    message: str | None
    redirect_url: str | None


# -- submit action settings, checked per action type ---------------------------------------

TagName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Address = Annotated[
    str, StringConstraints(max_length=320, pattern=r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
]


class SegmentsConfig(InputModel):
    segments: Annotated[list[EntityId], Field(min_length=1, max_length=50)]


class TagsConfig(InputModel):
    add: Annotated[list[TagName], Field(max_length=50)] = []
    remove: Annotated[list[TagName], Field(max_length=50)] = []


class PointsConfig(InputModel):
    delta: Annotated[int, Field(ge=-1_000_000, le=1_000_000)]


class EmailToContactConfig(InputModel):
    email_id: EntityId
    kind: Literal["marketing", "transactional"] = Field(
        default="transactional",
        description="Transactional (the default: the visitor asked for it) ignores Do Not "
        "Contact and the frequency cap; marketing respects both and goes once per contact.",
    )


class EmailToUsersConfig(InputModel):
    email_id: EntityId
    user_ids: Annotated[list[EntityId], Field(max_length=50)] = []
    addresses: Annotated[list[Address], Field(max_length=50)] = []
    to_owner: bool = False


class CampaignsConfig(InputModel):
    campaigns: Annotated[list[EntityId], Field(min_length=1, max_length=50)]


class WebhookConfig(InputModel):
    url: Annotated[str, StringConstraints(min_length=8, max_length=2000)]
    method: Literal["POST", "PUT", "PATCH"] = "POST"

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("an http:// or https:// URL with a host")
        if parts.username or parts.password:
            raise ValueError("credentials do not belong in the URL")
        return url


ACTION_CONFIGS: dict[str, type[InputModel]] = {
    "segments.add": SegmentsConfig,
    "segments.remove": SegmentsConfig,
    "tags.change": TagsConfig,
    "points.change": PointsConfig,
    "email.send_to_contact": EmailToContactConfig,
    "email.send_to_users": EmailToUsersConfig,
    "campaigns.add": CampaignsConfig,
    "webhook.send": WebhookConfig,
}
