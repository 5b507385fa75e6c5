"""Emails: the request and response models of the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from trellis.domains.projects.schemas import ProjectIds, ProjectRef
from trellis.schemas import EntityId, InputModel, OneHeaderLine

EmailName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
# Every text below that ends up in a message header (From, Reply-To, Subject, custom headers)
# is one line without control characters; the mailer refuses them again when it builds a
# message, for data that did not come through this API.
Subject = Annotated[str, StringConstraints(min_length=1, max_length=998), OneHeaderLine]
FromName = Annotated[str, StringConstraints(max_length=200), OneHeaderLine]
Address = Annotated[
    str,
    StringConstraints(max_length=320, pattern=r"^$|^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$"),
    OneHeaderLine,
]
HeaderName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{1,76}$")]
HeaderValue = Annotated[str, StringConstraints(max_length=998), OneHeaderLine]
Body = Annotated[str, StringConstraints(max_length=1_000_000)]
UtmValue = Annotated[str, StringConstraints(max_length=200)]
# A BCP 47 tag, bounded by the 35 characters the columns hold.
Language = Annotated[
    str, StringConstraints(max_length=35, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
]
EmailKind = Literal["template", "broadcast"]
BodyFormat = Literal["mjml", "html"]
SendKind = Literal["marketing", "transactional"]
SendStatus = Literal["queued", "sending", "sent", "failed", "skipped"]

# Headers Trellis writes itself; an email cannot set them.
RESERVED_HEADERS = frozenset(
    {
        "from",
        "to",
        "cc",
        "bcc",
        "subject",
        "date",
        "message-id",
        "reply-to",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
        "list-unsubscribe",
        "list-unsubscribe-post",
        "dkim-signature",
        "return-path",
    }
)


class Header(InputModel):
    name: HeaderName
    value: HeaderValue

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, name: str) -> str:
        if name.lower() in RESERVED_HEADERS:
            raise ValueError(f"{name} is set by Trellis itself")
        return name


class Utm(InputModel):
    source: UtmValue = ""
    medium: UtmValue = ""
    campaign: UtmValue = ""
    content: UtmValue = ""


class EmailRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: EmailKind
    subject: str
    preheader: str
    from_name: str
    from_address: str
    reply_to: str
    headers: list[Header]
    body_format: BodyFormat
    body: str
    text_body: str | None = Field(
        description="The plain-text part as edited; null when it is generated from the HTML."
    )
    language: str
    utm: Utm
    is_published: bool
    content_version: int = Field(description="Bumped by every change to the content.")
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime
    version: int
    projects: list[ProjectRef] = []


class EmailCreate(InputModel):
    name: EmailName
    kind: EmailKind = "template"
    subject: Subject
    preheader: Annotated[str, StringConstraints(max_length=500)] = ""
    from_name: FromName = ""
    from_address: Address = Field(default="", description="Empty: the instance's sender.")
    reply_to: Address = ""
    headers: Annotated[list[Header], Field(max_length=30)] = []
    body_format: BodyFormat = "mjml"
    body: Body = Field(
        description="MJML (<mjml>...</mjml>) or HTML, with tokens such as "
        "{contactfield=first_name|there}, {ownerfield=email}, {unsubscribe_url}, "
        "{webview_url}, {preferences_url}, {date}, or sandboxed Jinja2 over contact and owner."
    )
    text_body: Annotated[str, StringConstraints(max_length=1_000_000)] | None = None
    language: Language = "en"
    utm: Utm = Field(default_factory=Utm)
    is_published: bool = False
    projects: ProjectIds = Field(default_factory=list)


class EmailUpdate(InputModel):
    name: EmailName | None = None
    kind: EmailKind | None = None
    subject: Subject | None = None
    preheader: Annotated[str, StringConstraints(max_length=500)] | None = None
    from_name: FromName | None = None
    from_address: Address | None = None
    reply_to: Address | None = None
    headers: Annotated[list[Header], Field(max_length=30)] | None = None
    body_format: BodyFormat | None = None
    body: Body | None = None
    text_body: Annotated[str, StringConstraints(max_length=1_000_000)] | None = Field(
        default=None, description="Send null (with generate_text) to go back to the generated one."
    )
    generate_text: bool = Field(
        default=False, description="Drop the edited plain-text part and generate it again."
    )
    language: Language | None = None
    utm: Utm | None = None
    is_published: bool | None = None
    projects: ProjectIds | None = None


class PreviewRequest(InputModel):
    contact_id: EntityId | None = Field(
        default=None, description="Render for this contact; none: a sample contact."
    )


class PreviewRead(BaseModel):
    subject: str
    html: str
    text: str
    links: list[str]


class TestSendRead(BaseModel):
    send_id: int
    to_address: str
    status: SendStatus
    reason: str | None
    message_id: str


class SendRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email_id: int
    email_version: int
    contact_id: int | None
    recipient: Literal["contact", "user"]
    to_address: str
    kind: SendKind
    source: str
    campaign_id: int | None
    event_id: int | None
    rotation: int | None
    broadcast_id: int | None
    status: SendStatus
    reason: str | None
    message_id: str
    attempts: int
    due_at: datetime | None
    created_at: datetime
    sent_at: datetime | None


class OutboxItem(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    send_id: int | None
    message_id: str
    sender: str
    recipients: list[str]
    subject: str
    size: int
    created_at: datetime


class OutboxMessageRead(OutboxItem):
    raw: str = Field(description="The whole message as it would have been sent (RFC 5322).")


class FrequencyRead(BaseModel):
    contact_id: int
    frequency_limit: int | None = Field(
        description="Marketing emails per period for this contact; null: the instance default."
    )
    frequency_days: int | None
    effective_limit: int = Field(description="What applies now; 0 means no cap.")
    effective_days: int


class FrequencyUpdate(InputModel):
    frequency_limit: Annotated[int, Field(ge=1, le=1000)] | None = None
    frequency_days: Annotated[int, Field(ge=1, le=365)] | None = None


class DeliveryRead(BaseModel):
    sent: int
    failed: int
    retried: int
    skipped: int
    deferred: int
