"""The mailer port campaign steps use, backed by the email service in the runner's
transaction: a send is queued together with the step that sends it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.domains.emails.service import email_service
from trellis.events.base import EmailRequest, MailerPort, QueuedEmail


@dataclass
class DomainMailer(MailerPort):
    session: AsyncSession
    now: datetime

    async def send(
        self,
        request: EmailRequest,
        contact_ids: Sequence[int],
        *,
        campaign_id: int,
        event_id: int,
        rotations: Mapping[int, int],
    ) -> Mapping[int, QueuedEmail]:
        return await email_service.queue(
            self.session,
            request,
            contact_ids,
            now=self.now,
            source="campaign",
            campaign_id=campaign_id,
            event_id=event_id,
            rotations=rotations,
        )

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
        return await email_service.notify(
            self.session,
            email_id=email_id,
            contact_ids=contact_ids,
            to_owner=to_owner,
            user_ids=user_ids,
            addresses=addresses,
            now=self.now,
            campaign_id=campaign_id,
            event_id=event_id,
        )
