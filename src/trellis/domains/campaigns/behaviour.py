"""Behaviour that drives campaigns in real time: tracked events and channel behaviour
(opens, clicks, submissions) offered to the decisions contacts wait on."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.domains.campaigns.publishing import CampaignPublishing
from trellis.domains.campaigns.repository import CampaignRepository
from trellis.domains.campaigns.schemas import (
    TrackEvent,
    TrackResult,
)
from trellis.domains.contacts.bulk import contact_bulk_service
from trellis.errors import (
    DomainError,
    FieldError,
    ValidationFailed,
)
from trellis.events.base import Behaviour


class CampaignBehaviour(CampaignPublishing):
    async def track(
        self, session: AsyncSession, *, events: Sequence[TrackEvent], now: datetime
    ) -> list[TrackResult | DomainError]:
        """Record what contacts did and let their waiting decisions react at once: a batch of
        events in a few statements (the track endpoint groups concurrent requests). An event
        naming no existing contact gets its error in its place; the others go ahead."""
        repo = CampaignRepository(session)
        by_email = await repo.contacts_by_email(
            [e.email.strip().lower() for e in events if e.contact_id is None and e.email]
        )
        existing = await repo.existing_contacts(
            [e.contact_id for e in events if e.contact_id is not None]
        )
        results: list[TrackResult | DomainError] = []
        accepted: list[tuple[int, TrackEvent]] = []
        for data in events:
            contact_id = data.contact_id
            if contact_id is None and data.email:
                contact_id = by_email.get(data.email.strip().lower())
            elif contact_id not in existing:
                contact_id = None
            if contact_id is None:
                results.append(
                    ValidationFailed(
                        "Name an existing contact by contact_id or email.",
                        [
                            FieldError(
                                "/contact_id" if data.contact_id else "/email",
                                "No such contact.",
                                "not_found",
                            )
                        ],
                    )
                )
                continue
            results.append(TrackResult(contact_id=contact_id, decisions_taken=0))
            accepted.append((len(results) - 1, data))
        if not accepted:
            return results
        contact_ids = [cast(TrackResult, results[i]).contact_id for i, _ in accepted]
        await repo.add_contact_events(
            [
                {
                    "contact_id": contact_id,
                    "name": data.name,
                    "properties": data.properties,
                    "occurred_at": data.occurred_at or now,
                }
                for contact_id, (_, data) in zip(contact_ids, accepted, strict=True)
            ]
        )
        await contact_bulk_service.touch_activity(
            session, contact_ids=sorted(set(contact_ids)), now=now
        )
        taken = await self.offer_many(
            session,
            offers=[
                (contact_id, Behaviour(kind="event", name=data.name, properties=data.properties))
                for contact_id, (_, data) in zip(contact_ids, accepted, strict=True)
            ],
            now=now,
        )
        for (index, _), count in zip(accepted, taken, strict=True):
            cast(TrackResult, results[index]).decisions_taken = count
        return results

    async def offer(
        self, session: AsyncSession, *, contact_id: int, behaviour: Behaviour, now: datetime
    ) -> int:
        """Offer a behaviour to every decision the contact waits on (any channel calls this)."""
        return (await self.offer_many(session, offers=[(contact_id, behaviour)], now=now))[0]

    async def offer_many(
        self,
        session: AsyncSession,
        *,
        offers: Sequence[tuple[int, Behaviour]],
        now: datetime,
    ) -> list[int]:
        """Offer behaviours (contact, what it did) to the decisions those contacts wait on,
        campaign by campaign, each campaign's offers decided together. Returns, per offer, how
        many decisions it took."""
        kinds = {behaviour.kind for _, behaviour in offers}
        types = [t.key for t in self.registry if t.behaviour in kinds]
        taken = [0] * len(offers)
        if not types:
            return taken
        repo = CampaignRepository(session)
        pending = await repo.waiting_decisions(sorted({c for c, _ in offers}), types)
        waiting: dict[int, dict[int, list[tuple[int, int, datetime]]]] = {}
        for contact_id, campaign_id, event_id, rotation, reached in pending:
            waiting.setdefault(campaign_id, {}).setdefault(contact_id, []).append(
                (event_id, rotation, reached)
            )
        for campaign_id, by_contact in waiting.items():
            campaign = await repo.get(campaign_id)
            if campaign is None or not campaign.is_published:
                continue
            indexes = [i for i, (contact_id, _) in enumerate(offers) if contact_id in by_contact]
            runner = self.runner(session, await self.load(session, campaign), now)
            took = await runner.decide(
                [(offers[i][0], offers[i][1], by_contact[offers[i][0]]) for i in indexes]
            )
            await runner.flush()
            for index, decided in zip(indexes, took, strict=True):
                taken[index] += int(decided)
        return taken
