"""Tracking: the signed links a message carries, what recipients do with them (opens, clicks,
unsubscribes, preferences) and what receiving servers report (deliveries, bounces,
complaints).

Opens and clicks arrive in bursts and are written by the hit buffer (``tasks.HitBuffer``) a
batch at a time through :meth:`TrackingService.record_hits`: counters move by increments in
one statement per batch, first opens and first clicks of a link are told apart by the rows a
statement changed (so they count once even with several writers), and the behaviours are
offered to waiting ``email.open`` / ``email.click`` decisions in the same transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor, Perm
from trellis.domains.contacts.schemas import ActivityItem
from trellis.domains.contacts.service import (
    contact_service,
)
from trellis.domains.emails.links import ClickTokens, LinkSigner
from trellis.domains.emails.service import email_service
from trellis.domains.tracking.dsn import MailEvent, parse_report
from trellis.domains.tracking.repository import SendInfo, TrackingRepository
from trellis.domains.tracking.schemas import (
    CategoryRead,
    EmailEventIn,
    EmailEventsResult,
    EmailStatsRead,
    LinkStats,
)
from trellis.events.base import Behaviour
from trellis.events.email import BEHAVIOUR_CLICK, BEHAVIOUR_OPEN
from trellis.ports import Journeys
from trellis.wiring import Slot

log = logging.getLogger(__name__)

FORM_TOKEN_TTL_S = 24 * 3600
_GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
PIXEL_GIF = _GIF


@dataclass(frozen=True)
class Hit:
    kind: Literal["open", "click"]
    send_id: int
    at: datetime
    url: str | None = None


@dataclass(frozen=True)
class SignedTracking:
    """The tracking hook of the renderer: every http(s) link of a message becomes a redirect
    whose token signs the send and the URL, and an open pixel closes the body."""

    signer: LinkSigner
    max_url_length: int = 4096
    pixel_enabled: bool = True

    def click_url(self, send_id: int, url: str) -> str:
        token = self.signer.token("c", send_id, url)
        return f"{self.signer.base_url.rstrip('/')}/t/click/{token}?u={quote(url, safe='')}"

    def open_url(self, send_id: int) -> str:
        return f"{self.signer.base_url.rstrip('/')}/t/open/{self.signer.token('o', send_id)}.gif"

    def links(self, send_id: int | None, urls: list[str]) -> list[str]:
        if send_id is None:
            return urls
        # A link too long to sign into a URL goes untracked rather than broken.
        return [self.click_url(send_id, u) if len(u) <= self.max_url_length else u for u in urls]

    def pixel(self, send_id: int | None) -> str:
        if send_id is None or not self.pixel_enabled:
            return ""
        return (
            f'<img src="{self.open_url(send_id)}" width="1" height="1" alt="" '
            'style="display:block;width:1px;height:1px;border:0" />'
        )

    def without_pixel(self) -> SignedTracking:
        return SignedTracking(self.signer, self.max_url_length, pixel_enabled=False)


@dataclass
class Preferences:
    send: SendInfo
    subscribed: bool
    can_resubscribe: bool
    categories: list[tuple[str, bool]]


@dataclass
class FlushResult:
    written: int = 0
    dropped: int = 0
    offers: int = 0
    decisions: int = 0


class TrackingService:
    journeys: Slot[Journeys] = Slot()
    click_tokens: Slot[ClickTokens] = Slot()

    def __init__(self) -> None:
        self.hook = SignedTracking(LinkSigner(b"unconfigured", "http://127.0.0.1:8000"))

    def configure(self, hook: SignedTracking, click_tokens: ClickTokens) -> None:
        self.hook = hook
        self.click_tokens = click_tokens

    @property
    def signer(self) -> LinkSigner:
        return self.hook.signer

    # -- tokens -----------------------------------------------------------------------------

    def verify(self, purpose: str, token: str, extra: str = "") -> int | None:
        if len(token) > 64:
            return None
        return self.signer.verify(purpose, token, extra)

    def form_token(self, send_id: int, now: float | None = None) -> str:
        """A token for the preference and unsubscribe forms: only a page this server rendered
        can post them (CSRF), and only for a day."""
        issued = int(now if now is not None else time.time())
        mac = hmac.new(self.signer.secret, f"form:{send_id}:{issued}".encode(), hashlib.sha256)
        return f"{issued}.{mac.hexdigest()[:32]}"

    def check_form_token(self, send_id: int, token: str, now: float | None = None) -> bool:
        issued_text, dot, mac = token.partition(".")
        if not dot or not issued_text.isdigit() or len(token) > 64:
            return False
        issued = int(issued_text)
        current = now if now is not None else time.time()
        if not 0 <= current - issued <= FORM_TOKEN_TTL_S:
            return False
        expected = self.form_token(send_id, issued).partition(".")[2]
        return hmac.compare_digest(mac, expected)

    # -- opens and clicks -------------------------------------------------------------------

    async def record_hits(
        self, session: AsyncSession, hits: Sequence[Hit], now: datetime
    ) -> FlushResult:
        """Write a batch of hits: counters per send, link and email, the hit log, and the
        behaviours offered to waiting decisions."""
        repo = TrackingRepository(session)
        result = FlushResult()
        sends = await repo.sends(sorted({h.send_id for h in hits}))
        # Test sends and notifications to users are about a contact, not read by one.
        valid = [h for h in hits if h.send_id in sends and sends[h.send_id].recipient == "contact"]
        result.dropped = len(hits) - len(valid)
        if not valid:
            return result
        touched = [sends[sid] for sid in sorted({h.send_id for h in valid})]
        await repo.ensure_tracking(touched)

        opens = Counter(h.send_id for h in valid if h.kind == "open")
        clicks = Counter(h.send_id for h in valid if h.kind == "click")
        first_opens = await repo.mark_first("first_opened_at", list(opens), now)
        # A click is also an open: a reader who blocks images still read the message.
        implied = await repo.mark_first(
            "first_opened_at", [sid for sid in clicks if sid not in opens], now
        )
        open_counts = {sid: n + (1 if sid in implied else 0) for sid, n in opens.items()}
        open_counts.update({sid: 1 for sid in implied if sid not in open_counts})
        first_clicks = await repo.mark_first("first_clicked_at", list(clicks), now)
        await repo.add_counts(
            {
                sid: (open_counts.get(sid, 0), clicks.get(sid, 0))
                for sid in set(open_counts) | set(clicks)
            },
            now,
        )

        link_of = await _count_links(repo, sends, valid, now)

        deltas: dict[int, dict[str, int]] = {}
        for sid, n in open_counts.items():
            deltas.setdefault(sends[sid].email_id, Counter())["opens"] += n
        for sid in first_opens | implied:
            deltas.setdefault(sends[sid].email_id, Counter())["unique_opens"] += 1
        for sid, n in clicks.items():
            deltas.setdefault(sends[sid].email_id, Counter())["clicks"] += n
        for sid in first_clicks:
            deltas.setdefault(sends[sid].email_id, Counter())["unique_clicks"] += 1
        await repo.add_stats(deltas)

        await repo.add_hits(
            [
                {
                    "send_id": h.send_id,
                    "email_id": sends[h.send_id].email_id,
                    "contact_id": sends[h.send_id].contact_id,
                    "kind": h.kind,
                    "link_id": link_of.get(h),
                    "occurred_at": h.at,
                }
                for h in valid
            ]
        )
        result.written = len(valid)

        offers = _behaviours(sends, valid, implied)
        if offers:
            taken = await self.journeys.offer_many(session, offers=offers, now=now)
            result.offers = len(offers)
            result.decisions = sum(taken)
        return result

    # -- pages ------------------------------------------------------------------------------

    async def send(self, session: AsyncSession, send_id: int) -> SendInfo | None:
        found = (await TrackingRepository(session).sends([send_id])).get(send_id)
        if found is None or found.recipient != "contact" or found.contact_id is None:
            return None
        return found

    async def web_view(self, session: AsyncSession, send_id: int) -> str | None:
        if await self.send(session, send_id) is None:
            return None
        rendered = await email_service.render_send(
            session, send_id, tracking=self.hook.without_pixel()
        )
        return rendered.html if rendered is not None else None

    async def unsubscribe(self, session: AsyncSession, send: SendInfo, now: datetime) -> bool:
        """Do Not Contact on email for the recipient, recorded on the send; True when this
        request is what unsubscribed them."""
        assert send.contact_id is not None
        repo = TrackingRepository(session)
        await repo.ensure_tracking([send])
        first = await repo.mark_first("unsubscribed_at", [send.id], now)
        if first:
            await repo.add_stats({send.email_id: {"unsubscribes": 1}})
        if await repo.dnc_reason(send.contact_id) is not None:
            return False
        await contact_service.add_dnc(
            session,
            contact_ids=[send.contact_id],
            channel="email",
            reason="unsubscribed",
            source_type="email",
            source_id=send.email_id,
            now=now,
        )
        return True

    async def preferences(self, session: AsyncSession, send: SendInfo) -> Preferences:
        assert send.contact_id is not None
        repo = TrackingRepository(session)
        reason = await repo.dnc_reason(send.contact_id)
        opted_out = await repo.opted_out(send.contact_id)
        return Preferences(
            send=send,
            subscribed=reason is None,
            # A bounced or complained address is not the recipient's to switch back on.
            can_resubscribe=reason in (None, "unsubscribed"),
            categories=[(c, c not in opted_out) for c in await repo.categories()],
        )

    async def save_preferences(
        self,
        session: AsyncSession,
        send: SendInfo,
        *,
        subscribed: bool,
        categories: set[str],
        now: datetime,
    ) -> Preferences:
        assert send.contact_id is not None
        current = await self.preferences(session, send)
        if not subscribed and current.subscribed:
            await self.unsubscribe(session, send, now)
        elif subscribed and not current.subscribed and current.can_resubscribe:
            await contact_service.remove_dnc(
                session,
                contact_ids=[send.contact_id],
                channel="email",
                source_type="email",
                source_id=send.email_id,
                now=now,
            )
        known = {c for c, _ in current.categories}
        await TrackingRepository(session).set_opt_outs(
            send.contact_id, known - (categories & known), now
        )
        return await self.preferences(session, send)

    # -- statistics and categories ----------------------------------------------------------

    async def stats(self, session: AsyncSession, email_id: int, *, actor: Actor) -> EmailStatsRead:
        await email_service.get(session, email_id, actor=actor)
        repo = TrackingRepository(session)
        counts = await repo.send_counts(email_id)
        stats = await repo.stats_of(email_id)

        def value(name: str) -> int:
            return int(getattr(stats, name)) if stats is not None else 0

        return EmailStatsRead(
            email_id=email_id,
            sent=counts.get("sent", 0),
            queued=counts.get("queued", 0) + counts.get("sending", 0),
            failed=counts.get("failed", 0),
            skipped=counts.get("skipped", 0),
            delivered=value("delivered"),
            opens=value("opens"),
            unique_opens=value("unique_opens"),
            clicks=value("clicks"),
            unique_clicks=value("unique_clicks"),
            unsubscribes=value("unsubscribes"),
            bounces=value("bounces"),
            hard_bounces=value("hard_bounces"),
            complaints=value("complaints"),
            links=[
                LinkStats(url=link.url, clicks=link.clicks, unique_clicks=link.unique_clicks)
                for link in await repo.links_of(email_id)
            ],
        )

    async def category(self, session: AsyncSession, email_id: int, *, actor: Actor) -> CategoryRead:
        await email_service.get(session, email_id, actor=actor)
        found = await TrackingRepository(session).category_of(email_id)
        return CategoryRead(email_id=email_id, category=found)

    async def set_category(
        self, session: AsyncSession, email_id: int, category: str | None, *, actor: Actor
    ) -> CategoryRead:
        email = await email_service.get(session, email_id, actor=actor)
        actor.require_on("emails", Perm.EDIT_OWN, Perm.EDIT_OTHERS, email.created_by_id)
        await TrackingRepository(session).set_category(email_id, category)
        return CategoryRead(email_id=email_id, category=category)

    # -- deliveries, bounces, complaints ----------------------------------------------------

    async def ingest_events(
        self,
        session: AsyncSession,
        events: Sequence[EmailEventIn],
        *,
        actor: Actor,
        now: datetime,
    ) -> EmailEventsResult:
        actor.require("contacts", Perm.EDIT_OTHERS)
        mail_events = [
            (
                MailEvent(
                    type=e.type,
                    message_id=e.message_id,
                    email=(e.email or "").strip().lower() or None,
                    bounce_type=e.bounce_type if e.type == "bounce" else None,
                    reason=e.reason,
                    occurred_at=e.occurred_at,
                ),
                e.send_id,
            )
            for e in events
        ]
        return await self.apply_events(session, mail_events, now=now)

    async def apply_events(
        self,
        session: AsyncSession,
        events: Sequence[tuple[MailEvent, int | None]],
        *,
        now: datetime,
    ) -> EmailEventsResult:
        """Record deliveries, bounces and complaints on their sends; hard bounces and
        complaints put the contact on Do Not Contact for email."""
        repo = TrackingRepository(session)
        by_id = await repo.sends([sid for _, sid in events if sid is not None])
        ids = [_bare_id(e.message_id) for e, sid in events if sid is None and e.message_id]
        by_message = await repo.sends_by_message_ids([v for mid in ids for v in (f"<{mid}>", mid)])
        addresses = [e.email for e, sid in events if sid is None and not e.message_id and e.email]
        by_address = await repo.latest_sends_to(addresses)
        contacts_by_address = await repo.contacts_with_address(addresses)
        unmatched: list[int] = []
        accepted = 0
        dnc: dict[str, set[int]] = {"bounced": set(), "complaint": set()}
        deltas: dict[int, dict[str, int]] = {}
        for index, (event, send_id) in enumerate(events):
            send = _send_of(event, send_id, by_id, by_message, by_address)
            at = event.occurred_at or now
            contacts: set[int] = set()
            if send is not None:
                if send.contact_id is not None and send.recipient == "contact":
                    contacts.add(send.contact_id)
                await repo.ensure_tracking([send])
                await _record_on_send(
                    repo, send, event, at, deltas.setdefault(send.email_id, Counter())
                )
            elif event.email and event.email in contacts_by_address:
                contacts.update(contacts_by_address[event.email])
            else:
                unmatched.append(index)
                continue
            accepted += 1
            if event.type == "complaint":
                dnc["complaint"].update(contacts)
            elif event.type == "bounce" and event.bounce_type != "soft":
                dnc["bounced"].update(contacts)
        await repo.add_stats(deltas)
        added = await _do_not_contact(session, repo, dnc, now)
        return EmailEventsResult(accepted=accepted, unmatched=unmatched, dnc_added=added)

    async def ingest_report(self, session: AsyncSession, raw: bytes, *, now: datetime) -> int:
        """A bounce or complaint report from the mailbox; how many events it held."""
        events = parse_report(raw)
        if events:
            await self.apply_events(session, [(e, None) for e in events], now=now)
        return len(events)


def _bare_id(message_id: str | None) -> str:
    return (message_id or "").strip().strip("<>").strip()


tracking_service = TrackingService()


async def contact_timeline(
    session: AsyncSession, contact_id: int, before: datetime | None, limit: int
) -> list[ActivityItem]:
    items = []
    for hit, name, url in await TrackingRepository(session).hits_of_contact(
        contact_id, before, limit
    ):
        opened = hit.kind == "open"
        items.append(
            ActivityItem(
                occurred_at=hit.occurred_at,
                kind=f"email.{hit.kind}",
                summary=f"Email opened: {name}" if opened else f"Email link clicked: {name}",
                details={"email_id": hit.email_id, "send_id": hit.send_id, "url": url},
                source_type="email",
                source_id=hit.email_id,
            )
        )
    return items


async def merge_contacts(
    session: AsyncSession, winner_id: int, loser_id: int, now: datetime
) -> None:
    await TrackingRepository(session).move_contact(loser_id=loser_id, winner_id=winner_id, now=now)


async def _count_links(
    repo: TrackingRepository, sends: Mapping[int, SendInfo], valid: Sequence[Hit], now: datetime
) -> dict[Hit, int]:
    """Clicks and first clicks per link; the link of each click."""
    click_hits = [h for h in valid if h.kind == "click" and h.url]
    link_ids = await repo.link_ids([(sends[h.send_id].email_id, h.url or "") for h in click_hits])
    link_of = {h: link_ids[(sends[h.send_id].email_id, h.url or "")] for h in click_hits}
    pairs = {(h.send_id, link_of[h]) for h in click_hits}
    first_link = await repo.first_link_clicks(sorted(pairs), now)
    per_link: dict[int, list[int]] = {}
    for h in click_hits:
        per_link.setdefault(link_of[h], [0, 0])[0] += 1
    for _, link_id in first_link:
        per_link[link_id][1] += 1
    await repo.add_link_counts({k: (v[0], v[1]) for k, v in per_link.items()})
    return link_of


def _behaviours(
    sends: Mapping[int, SendInfo], valid: Sequence[Hit], implied: set[int]
) -> list[tuple[int, Behaviour]]:
    """The opens and clicks to offer to waiting decisions, once per contact, email and link
    (a click also offers an open when it implied one)."""
    seen: set[tuple[int, str, int, str | None]] = set()
    offers: list[tuple[int, Behaviour]] = []
    for h in valid:
        send = sends[h.send_id]
        if send.contact_id is None:
            continue
        wanted: list[tuple[str, str | None]] = []
        if h.kind == "open" or h.send_id in implied:
            wanted.append((BEHAVIOUR_OPEN, None))
        if h.kind == "click":
            wanted.append((BEHAVIOUR_CLICK, h.url))
        for kind, url in wanted:
            key = (send.contact_id, kind, send.email_id, url)
            if key not in seen:
                seen.add(key)
                offers.append(
                    (send.contact_id, Behaviour(kind=kind, channel_id=send.email_id, url=url))
                )
    return offers


def _send_of(
    event: MailEvent,
    send_id: int | None,
    by_id: Mapping[int, SendInfo],
    by_message: Mapping[str, SendInfo],
    by_address: Mapping[str, SendInfo],
) -> SendInfo | None:
    """The send an event is about: by our id, by its Message-ID, else the latest send to
    its address."""
    if send_id is not None:
        return by_id.get(send_id)
    if event.message_id:
        mid = _bare_id(event.message_id)
        return by_message.get(f"<{mid}>") or by_message.get(mid)
    if event.email:
        return by_address.get(event.email)
    return None


async def _record_on_send(
    repo: TrackingRepository,
    send: SendInfo,
    event: MailEvent,
    at: datetime,
    counts: dict[str, int],
) -> None:
    """Mark the send delivered, complained about or bounced (the first time only), and
    count it for the email's statistics."""
    if event.type == "delivered":
        if await repo.mark_first("delivered_at", [send.id], at):
            counts["delivered"] += 1
    elif event.type == "complaint":
        if await repo.mark_first("complained_at", [send.id], at):
            counts["complaints"] += 1
    elif await repo.mark_first(
        "bounced_at",
        [send.id],
        at,
        bounce_type=event.bounce_type or "hard",
        bounce_reason=event.reason[:1000],
    ):
        counts["bounces"] += 1
        if event.bounce_type != "soft":
            counts["hard_bounces"] += 1


async def _do_not_contact(
    session: AsyncSession, repo: TrackingRepository, dnc: Mapping[str, set[int]], now: datetime
) -> int:
    """Contacts not yet on Do Not Contact for email put on it, by reason; how many."""
    added = 0
    for reason, contact_ids in dnc.items():
        fresh = [c for c in sorted(contact_ids) if await repo.dnc_reason(c) is None]
        if fresh:
            await contact_service.add_dnc(
                session,
                contact_ids=fresh,
                channel="email",
                reason=reason,
                source_type="email",
                source_id=None,
                now=now,
            )
            added += len(fresh)
    return added
