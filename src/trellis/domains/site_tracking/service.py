"""Website tracking: page hits from the tracking script, the visitors behind them, and how an
anonymous visitor becomes a known contact.

Hits arrive in bursts and are written by the buffer (``tasks.WebHitBuffer``) a batch at a
time through :meth:`WebService.record`: visitors are upserted, identifications (a form
submission, a signed email-click token) link visitors to contacts and back-fill their earlier
hits, the hits are inserted, and those of known contacts are offered to waiting ``page.hit``
decisions, all in one transaction and in one statement of each kind per batch.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor, Perm
from trellis.db.pagination import Page, PageRequest
from trellis.domains.contacts.schemas import ActivityItem
from trellis.domains.contacts.service import (
    contact_service,
)
from trellis.domains.emails.links import ClickTokens
from trellis.domains.landing_pages.service import page_service
from trellis.domains.site_tracking.repository import WebRepository, url_hash
from trellis.domains.site_tracking.schemas import PageHitRead
from trellis.events.base import Behaviour
from trellis.events.web import BEHAVIOUR_HIT, DEVICES
from trellis.ports import Journeys
from trellis.wiring import Slot

VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


def valid_visitor(value: object) -> str | None:
    return value if isinstance(value, str) and VISITOR_ID.fullmatch(value) else None


@dataclass(frozen=True)
class WebHit:
    """One page view as the endpoint accepted it (every field checked and bounded)."""

    visitor_id: str
    url: str
    at: datetime
    title: str = ""
    referrer: str = ""
    site: str = ""
    device: str = "desktop"
    # The send a verified click token named: the visitor is that send's contact.
    send_id: int | None = None


@dataclass(frozen=True)
class Identification:
    """A visitor that submitted a form: it is the submission's contact."""

    visitor_id: str
    submission_id: int
    at: datetime


@dataclass
class RecordResult:
    written: int = 0
    identified: int = 0
    offers: int = 0
    decisions: int = 0
    linked: dict[str, int] = field(default_factory=dict)


def utm_of(url: str) -> dict[str, str | None]:
    query = dict(parse_qsl(urlsplit(url).query, keep_blank_values=False))
    return {key: (query.get(key) or None) and query[key][:200] for key in UTM_KEYS}


class WebService:
    journeys: Slot[Journeys] = Slot()

    click_tokens: Slot[ClickTokens] = Slot()

    def configure(self, click_tokens: ClickTokens) -> None:
        self.click_tokens = click_tokens

    # -- recording ----------------------------------------------------------------------------

    async def record(
        self,
        session: AsyncSession,
        hits: Sequence[WebHit],
        now: datetime,
        identifications: Sequence[Identification] = (),
    ) -> RecordResult:
        repo = WebRepository(session)
        result = RecordResult()
        if hits:
            last: dict[str, WebHit] = {}
            first: dict[str, datetime] = {}
            for hit in hits:
                last[hit.visitor_id] = hit
                first.setdefault(hit.visitor_id, hit.at)
            await repo.upsert_visitors(
                [
                    {
                        "id": vid,
                        "contact_id": None,
                        "device": hit.device,
                        "first_seen_at": first[vid],
                        "last_seen_at": hit.at,
                        "identified_at": None,
                    }
                    for vid, hit in last.items()
                ]
            )
        # Who the visitors are, learnt in this batch: clicks first, then form submissions.
        pairs: dict[str, int] = {}
        send_ids = [h.send_id for h in hits if h.send_id is not None]
        if send_ids:
            by_send = await repo.contacts_of_sends(send_ids)
            for hit in hits:
                if hit.send_id is not None and hit.send_id in by_send:
                    pairs[hit.visitor_id] = by_send[hit.send_id]
        if identifications:
            by_submission = await repo.contacts_of_submissions(
                [i.submission_id for i in identifications]
            )
            for item in identifications:
                if item.submission_id in by_submission:
                    pairs[item.visitor_id] = by_submission[item.submission_id]
        if pairs:
            await self.identify_many(session, pairs, now)
            result.identified = len(pairs)
            result.linked = pairs
        if not hits:
            return result
        contacts = await repo.contacts_of_visitors([h.visitor_id for h in hits])
        rows = []
        for hit in hits:
            rows.append(
                {
                    "visitor_id": hit.visitor_id,
                    "contact_id": contacts.get(hit.visitor_id),
                    "site": hit.site,
                    "url": hit.url,
                    "url_hash": url_hash(hit.url),
                    "title": hit.title,
                    "referrer": hit.referrer,
                    **utm_of(hit.url),
                    "device": hit.device,
                    "created_at": hit.at,
                }
            )
        await repo.add_hits(rows)
        result.written = len(rows)

        seen: set[tuple[int, str, str, str]] = set()
        offers: list[tuple[int, Behaviour]] = []
        known = [hit.url for hit in hits if hit.visitor_id in contacts]
        landing_pages = await page_service.landing_page_ids(session, known) if known else {}
        for hit in hits:
            contact_id = contacts.get(hit.visitor_id)
            if contact_id is None:
                continue
            key = (contact_id, hit.url, hit.referrer, hit.device)
            if key in seen:
                continue
            seen.add(key)
            offers.append(
                (
                    contact_id,
                    Behaviour(
                        kind=BEHAVIOUR_HIT,
                        url=hit.url,
                        channel_id=landing_pages.get(hit.url),
                        properties={"referrer": hit.referrer, "device": hit.device},
                    ),
                )
            )
        if offers:
            taken = await self.journeys.offer_many(session, offers=offers, now=now)
            result.offers = len(offers)
            result.decisions = sum(taken)
        return result

    async def identify_many(
        self, session: AsyncSession, pairs: dict[str, int], now: datetime
    ) -> int:
        """Link visitors to contacts (visitor id -> contact id) and back-fill their earlier
        anonymous hits; pairs naming no valid visitor id or no existing contact are skipped."""
        repo = WebRepository(session)
        wanted = {v: c for v, c in pairs.items() if valid_visitor(v)}
        existing = await repo.existing_contacts(list(wanted.values())) if wanted else set()
        linked = {v: c for v, c in wanted.items() if c in existing}
        await repo.link_visitors(linked, now)
        return len(linked)

    async def identify(
        self, session: AsyncSession, visitor_id: str, contact_id: int, now: datetime
    ) -> bool:
        return await self.identify_many(session, {visitor_id: contact_id}, now) == 1

    # -- reading ------------------------------------------------------------------------------

    async def contact_hits_page(
        self, session: AsyncSession, contact_id: int, *, actor: Actor, page: PageRequest
    ) -> Page[PageHitRead]:
        await contact_service.get(session, contact_id, actor=actor)
        result = await WebRepository(session).hits_page(page=page, contact_id=contact_id)
        return _reads(result)

    async def hits_page(
        self, session: AsyncSession, *, actor: Actor, page: PageRequest, url: str | None
    ) -> Page[PageHitRead]:
        # Page hits are contacts' behaviour: whoever may see every contact may see them all.
        actor.require("contacts", Perm.VIEW_OTHERS)
        result = await WebRepository(session).hits_page(page=page, url=url)
        return _reads(result)


def _reads(result: Page[object]) -> Page[PageHitRead]:
    return Page(
        items=[PageHitRead.model_validate(row) for row in result.items],
        total=result.total,
        number=result.number,
        size=result.size,
    )


async def contact_timeline(
    session: AsyncSession, contact_id: int, before: datetime | None, limit: int
) -> list[ActivityItem]:
    return [
        ActivityItem(
            occurred_at=hit.created_at,
            kind="page.hit",
            summary=f"Visited {hit.title or hit.url}"[:300],
            details={"url": hit.url, "referrer": hit.referrer, "device": hit.device},
            source_type="web",
            source_id=None,
        )
        for hit in await WebRepository(session).contact_timeline(contact_id, before, limit)
    ]


async def merge_contacts(
    session: AsyncSession, winner_id: int, loser_id: int, now: datetime
) -> None:
    await WebRepository(session).move_contact(winner_id, loser_id)


web_service = WebService()

__all__ = ["DEVICES", "Identification", "WebHit", "WebService", "valid_visitor", "web_service"]
