"""Campaigns: the service the endpoints and other domains use, built from one module per use
case: ``core`` (loading, reading), ``validation``, ``membership``, ``editing``, ``publishing``
and ``behaviour``. Lists, statistics and the contact timeline live here.

Execution is the runtime's (``trellis.runtime.runner``); this service decides what to run and
when, inside units of work it is handed, and keeps membership following Mautic's state machine:
active members, exits (left the source, or a step), removals by a person (never undone
automatically), rotations for re-entry and jumps.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor
from trellis.db.models import Campaign
from trellis.db.pagination import Page, PageRequest
from trellis.domains.campaigns.behaviour import CampaignBehaviour
from trellis.domains.campaigns.core import CAMPAIGNS, STATUS_NAMES
from trellis.domains.campaigns.core import EnginePolicy as EnginePolicy
from trellis.domains.campaigns.repository import CampaignRepository
from trellis.domains.campaigns.schemas import (
    CampaignSummary,
    EventStatsRead,
    FailureRead,
)
from trellis.domains.contacts.schemas import ActivityItem
from trellis.domains.projects.links import project_links
from trellis.runtime.journal import Status


class CampaignService(CampaignBehaviour):
    """Every campaign use case, as one service."""

    async def list_page(
        self,
        session: AsyncSession,
        *,
        actor: Actor,
        page: PageRequest,
        q: str | None,
        project_id: int | None,
        published: bool | None,
    ) -> Page[CampaignSummary]:
        repo = CampaignRepository(session)
        result = await CAMPAIGNS.list_page(
            session,
            actor=actor,
            page=page,
            q=q,
            project_id=project_id,
            where=[Campaign.is_published.is_(published) if published is not None else None],
        )
        ids = [c.id for c in result.items]
        counts = await repo.member_counts(ids)
        projects = await project_links.projects_of(session, "campaign", ids)
        items = [
            CampaignSummary(
                id=c.id,
                uuid=c.uuid,
                name=c.name,
                description=c.description,
                is_published=c.is_published,
                paused_reason=c.paused_reason,
                members=counts.get(c.id, 0),
                projects=[p.id for p in projects[c.id]],
                updated_at=c.updated_at,
                version=c.version,
            )
            for c in result.items
        ]
        return Page(items=items, total=result.total, number=result.number, size=result.size)

    async def stats(
        self, session: AsyncSession, campaign_id: int, *, actor: Actor
    ) -> dict[str, EventStatsRead]:
        campaign = await self.get(session, campaign_id, actor=actor)
        repo = CampaignRepository(session)
        keys = {e.id: e.uuid for e in await repo.events(campaign.id)}
        return {
            keys[event_id]: EventStatsRead.model_validate(row, from_attributes=True)
            for event_id, row in (await repo.stats(campaign.id)).items()
            if event_id in keys
        }

    async def failures_page(
        self,
        session: AsyncSession,
        campaign_id: int,
        *,
        actor: Actor,
        page: PageRequest,
        status: str | None,
    ) -> Page[FailureRead]:
        campaign = await self.get(session, campaign_id, actor=actor)
        result = await CampaignRepository(session).failures_page(
            campaign.id, page=page, status=status
        )
        items = []
        for step, key, event_name, event_type, email, first, last in result.items:
            detail = step.detail or {}
            is_dead = step.status == Status.DEAD
            reason = detail.get("error") if is_dead else detail.get("last_error")
            # A dead step's attempts are in its detail: a retry resets the column.
            attempts = int(detail.get("attempts", step.attempts)) if is_dead else step.attempts
            items.append(
                FailureRead(
                    contact_id=step.contact_id,
                    email=email,
                    name=" ".join(p for p in (first, last) if p),
                    event_key=key,
                    event_name=event_name,
                    type=event_type,
                    rotation=step.rotation,
                    status="dead" if is_dead else "failed",
                    attempts=attempts,
                    reason=str(reason) if reason is not None else None,
                    reached_at=step.reached_at,
                    failed_at=step.done_at if is_dead else None,
                    next_attempt_at=None if is_dead else step.due_at,
                )
            )
        return Page(items=items, total=result.total, number=result.number, size=result.size)


async def contact_timeline(
    session: AsyncSession, contact_id: int, before: datetime | None, limit: int
) -> list[ActivityItem]:
    """Campaign entries, exits and the steps taken, on the contact's timeline (read from the
    journal, so campaign steps write their record once)."""
    repo = CampaignRepository(session)
    items = []
    names: dict[int, str] = {}
    for member, name in await repo.contact_memberships(contact_id):
        names[member.campaign_id] = name
        if before is None or member.joined_at < before:
            items.append(
                ActivityItem(
                    occurred_at=member.joined_at,
                    kind="campaign_joined",
                    summary=f"Entered campaign {name}"
                    + (f" (pass {member.rotation})" if member.rotation > 1 else ""),
                    details={"campaign_id": member.campaign_id, "rotation": member.rotation},
                    source_type="campaign",
                    source_id=member.campaign_id,
                )
            )
        if member.left_at is not None and (before is None or member.left_at < before):
            verb = "Removed from" if member.status == "removed" else "Left"
            items.append(
                ActivityItem(
                    occurred_at=member.left_at,
                    kind="campaign_left",
                    summary=f"{verb} campaign {name}",
                    details={"campaign_id": member.campaign_id, "status": member.status},
                    source_type="campaign",
                    source_id=member.campaign_id,
                )
            )
    for step, event_name, event_type in await repo.finished_steps(
        contact_id, before=before, limit=limit
    ):
        status = STATUS_NAMES[step.status]
        items.append(
            ActivityItem(
                occurred_at=step.done_at or step.reached_at,
                kind="campaign_step",
                summary=f"{names.get(step.campaign_id, 'Campaign')}: {event_name or event_type} "
                f"({status})",
                details={
                    "campaign_id": step.campaign_id,
                    "type": event_type,
                    "status": status,
                    **(step.detail or {}),
                },
                source_type="campaign",
                source_id=step.campaign_id,
            )
        )
    items.sort(key=lambda i: i.occurred_at, reverse=True)
    return items[:limit]


async def merge_contacts(
    session: AsyncSession, winner_id: int, loser_id: int, now: datetime
) -> None:
    """The surviving contact keeps the loser's journeys where it has none of its own."""
    await CampaignRepository(session).move_contact(loser_id=loser_id, winner_id=winner_id)


campaign_service = CampaignService()
PROJECTABLE = CAMPAIGNS.projectable("Campaigns")
