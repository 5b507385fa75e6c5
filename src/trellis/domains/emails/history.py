"""Emails on a contact's timeline, and a merged contact's sends kept with the survivor."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.domains.contacts.schemas import ActivityItem
from trellis.domains.emails.repository import EmailRepository


async def contact_timeline(
    session: AsyncSession, contact_id: int, before: datetime | None, limit: int
) -> list[ActivityItem]:
    items = []
    for send, name in await EmailRepository(session).sends_of_contact_since(
        contact_id, before, limit
    ):
        summary = {
            "sent": f"Email sent: {name}",
            "queued": f"Email queued: {name}",
            "sending": f"Email being sent: {name}",
            "failed": f"Email failed: {name}",
            "skipped": f"Email not sent: {name}",
        }.get(send.status, f"Email {send.status}: {name}")
        items.append(
            ActivityItem(
                occurred_at=send.sent_at or send.created_at,
                kind=f"email.{send.status}",
                summary=summary,
                details={
                    "email_id": send.email_id,
                    "send_id": send.id,
                    "reason": send.reason,
                    "kind": send.kind,
                },
                source_type=send.source,
                source_id=send.campaign_id or send.broadcast_id,
            )
        )
    return items


async def merge_contacts(
    session: AsyncSession, winner_id: int, loser_id: int, now: datetime
) -> None:
    await EmailRepository(session).move_contact(loser_id=loser_id, winner_id=winner_id)
