from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from trellis.api.deps import ActorDep, IfMatchDep, NowDep, SessionDep, set_etag
from trellis.api.pagination import ListResponse, list_response, page_request
from trellis.api.params import IdPath, OptionalIdQuery, SearchQuery
from trellis.api.routing import API_PREFIX
from trellis.db.pagination import PageRequest
from trellis.domains.emails import tasks as _tasks  # noqa: F401  (registers the jobs)
from trellis.domains.emails.delivery import email_delivery
from trellis.domains.emails.schemas import (
    EmailCreate,
    EmailRead,
    EmailUpdate,
    FrequencyRead,
    FrequencyUpdate,
    OutboxItem,
    OutboxMessageRead,
    PreviewRead,
    PreviewRequest,
    SendRead,
    SendStatus,
    TestSendRead,
)
from trellis.domains.emails.service import email_service

router = APIRouter(prefix=API_PREFIX, tags=["emails"])
PageDep = Annotated[PageRequest, Depends(page_request)]
StatusQuery = Annotated[SendStatus | None, Query()]


@router.get("/emails", response_model=ListResponse[EmailRead])
async def list_emails(
    actor: ActorDep,
    session: SessionDep,
    page: PageDep,
    q: SearchQuery = None,
    project: OptionalIdQuery = None,
    kind: Annotated[Literal["template", "broadcast"] | None, Query()] = None,
    is_published: Annotated[bool | None, Query()] = None,
) -> ListResponse[EmailRead]:
    result = await email_service.list_page(
        session,
        actor=actor,
        page=page,
        q=q,
        project_id=project,
        kind=kind,
        is_published=is_published,
    )
    reads = {e.id: e for e in await email_service.read_many(session, result.items)}
    return list_response(result, lambda e: reads[e.id])


@router.post("/emails", response_model=EmailRead, status_code=201)
async def create_email(
    body: EmailCreate, response: Response, actor: ActorDep, session: SessionDep, now: NowDep
) -> EmailRead:
    email = await email_service.create(session, data=body, actor=actor, now=now)
    set_etag(response, email.version)
    return await email_service.read(session, email)


@router.get("/emails/{email_id}", response_model=EmailRead)
async def get_email(
    email_id: IdPath, response: Response, actor: ActorDep, session: SessionDep
) -> EmailRead:
    email = await email_service.get(session, email_id, actor=actor)
    set_etag(response, email.version)
    return await email_service.read(session, email)


@router.patch("/emails/{email_id}", response_model=EmailRead)
async def update_email(
    email_id: IdPath,
    body: EmailUpdate,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    now: NowDep,
    expected: IfMatchDep,
) -> EmailRead:
    email = await email_service.update(
        session, email_id, data=body, actor=actor, now=now, expected_version=expected
    )
    set_etag(response, email.version)
    return await email_service.read(session, email)


@router.delete("/emails/{email_id}", status_code=204)
async def delete_email(email_id: IdPath, actor: ActorDep, session: SessionDep, now: NowDep) -> None:
    await email_service.delete(session, email_id, actor=actor, now=now)


@router.post(
    "/emails/{email_id}/preview",
    response_model=PreviewRead,
    summary="Render the email for a contact (or a sample contact) without sending it",
)
async def preview_email(
    email_id: IdPath, body: PreviewRequest, actor: ActorDep, session: SessionDep, now: NowDep
) -> PreviewRead:
    return await email_service.preview(
        session, email_id, contact_id=body.contact_id, actor=actor, now=now
    )


@router.post(
    "/emails/{email_id}/test-send",
    response_model=TestSendRead,
    summary="Send the email now to the current user, rendered for a contact or the sample",
)
async def test_send_email(
    email_id: IdPath, body: PreviewRequest, actor: ActorDep, session: SessionDep, now: NowDep
) -> TestSendRead:
    return await email_delivery.test_send(
        session, email_id, contact_id=body.contact_id, actor=actor, now=now
    )


@router.get("/emails/{email_id}/sends", response_model=ListResponse[SendRead])
async def list_email_sends(
    email_id: IdPath,
    actor: ActorDep,
    session: SessionDep,
    page: PageDep,
    status: StatusQuery = None,
) -> ListResponse[SendRead]:
    result = await email_service.sends_page(
        session, actor=actor, page=page, email_id=email_id, status=status
    )
    return list_response(result, SendRead.model_validate)


@router.get("/contacts/{contact_id}/email-sends", response_model=ListResponse[SendRead])
async def list_contact_sends(
    contact_id: IdPath,
    actor: ActorDep,
    session: SessionDep,
    page: PageDep,
    status: StatusQuery = None,
) -> ListResponse[SendRead]:
    result = await email_service.sends_page(
        session, actor=actor, page=page, contact_id=contact_id, status=status
    )
    return list_response(result, SendRead.model_validate)


@router.get("/contacts/{contact_id}/email-frequency", response_model=FrequencyRead)
async def get_contact_frequency(
    contact_id: IdPath, actor: ActorDep, session: SessionDep
) -> FrequencyRead:
    return await email_service.frequency(session, contact_id, actor=actor)


@router.put(
    "/contacts/{contact_id}/email-frequency",
    response_model=FrequencyRead,
    summary="The contact's own cap on marketing emails (null values: the instance default)",
)
async def set_contact_frequency(
    contact_id: IdPath, body: FrequencyUpdate, actor: ActorDep, session: SessionDep, now: NowDep
) -> FrequencyRead:
    return await email_service.set_frequency(session, contact_id, data=body, actor=actor, now=now)


@router.get("/outbox", response_model=ListResponse[OutboxItem])
async def list_outbox(
    actor: ActorDep, session: SessionDep, page: PageDep, q: SearchQuery = None
) -> ListResponse[OutboxItem]:
    result = await email_service.outbox_page(session, actor=actor, page=page, q=q)
    return list_response(result, OutboxItem.model_validate)


@router.get("/outbox/{message_id}", response_model=OutboxMessageRead)
async def get_outbox_message(
    message_id: IdPath, actor: ActorDep, session: SessionDep
) -> OutboxMessageRead:
    found = await email_service.outbox_message(session, message_id, actor=actor)
    return OutboxMessageRead.model_validate(found)
