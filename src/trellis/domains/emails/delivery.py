"""Email delivery: claim due sends, render them, hand them to the transport, record each
outcome; and the test send, which does the same for one message at once.

:meth:`EmailDelivery.deliver_due` runs after the commit, driven by a job and a background
service. A pass claims due rows a batch at a time: each batch gets its own claim token (this
process and a random id), the rows become ``sending`` under that token with a lease, and the
attempt is counted. The pass renews the lease of what it holds while it works, so a slow
server or a low sending rate never lets another process take over a batch its holder is still
sending. Each message goes to the transport on its own, and its outcome is recorded in a short
transaction as soon as the server answered (outcomes arriving together share one), checking
that the token still holds the row: a claim taken over loses cleanly instead of recording twice.
At most ``MailPolicy.in_flight`` messages are handed over and not recorded at any moment,
which bounds what a crash can send again. No transaction is open while a message is on the
wire.

A temporary failure goes back to the queue with a growing delay; after the last attempt, or on
a permanent refusal, the send is ``failed``. A process that dies after claiming leaves its rows
to come back when the lease ends, with their Message-ID unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor, Perm
from trellis.db.models import Email, EmailSend
from trellis.db.session import Database
from trellis.domains.emails.render import SAMPLE, CompiledEmail, RenderInput
from trellis.domains.emails.repository import EmailRepository
from trellis.domains.emails.schemas import DeliveryRead, TestSendRead
from trellis.domains.emails.service import EmailService, email_service
from trellis.errors import FieldError, ValidationFailed
from trellis.runtime.group_commit import GroupCommit
from trellis.runtime.mailer import (
    DeliveryResult,
    DeliveryStatus,
    Envelope,
    OutgoingMessage,
    UnsafeHeader,
    build_message,
    domain_of,
    new_message_id,
)

log = logging.getLogger(__name__)

FIRST_BATCH = 100
# The lease of what a pass holds is renewed this many times per lease period.
RENEWALS_PER_LEASE = 4
# A message is handed over only while more than this share of its lease is left, so that it
# reaches the server (a wait for the sending rate, the SMTP exchange) before the lease could
# end, even if the database stopped answering the renewals.
SEND_MARGIN = 0.5
RECORD_BACKOFF_MAX_S = 5.0
# How long a stopping pass waits for the messages on the wire to be answered and recorded.
STOP_GRACE_S = 3.0
# Rendering gives the event loop back this often, so that the connections of the batch on
# the wire keep moving while the next one is rendered.
RENDER_SLICE = 5


@dataclass
class _Prepared:
    """A claimed batch after rendering: messages to hand over, and sends already decided."""

    messages: list[OutgoingMessage] = field(default_factory=list)
    raw: dict[int, tuple[str, list[str], str, str]] = field(default_factory=dict)
    versions: dict[int, int] = field(default_factory=dict)
    decided: dict[int, tuple[str, str | None, datetime | None]] = field(default_factory=dict)


def new_claim_token() -> str:
    """Who claims (host and process, for whoever reads the row) and which claim."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:16]}"


@dataclass(frozen=True)
class _Outcome:
    """What became of one claimed send, to be recorded if its claim still holds it."""

    send_id: int
    token: str
    status: str  # sent | queued | failed | skipped
    counted_as: str  # the DeliveryRead figure it adds to
    at: datetime
    reason: str | None = None
    due: datetime | None = None
    version: int = 0
    kept: Mapping[str, Any] | None = None  # the outbox's copy of the message


@dataclass
class _Claim:
    token: str
    rows: dict[int, EmailSend]
    prepared: _Prepared


async def _write_outcomes(repo: EmailRepository, outcomes: Sequence[_Outcome]) -> None:
    sent = {o.send_id: (o.version, o.at) for o in outcomes if o.status == "sent"}
    if sent:
        await repo.mark_sent(sent)
        kept = [dict(o.kept) for o in outcomes if o.status == "sent" and o.kept is not None]
        if kept:
            await repo.add_outbox(kept)
    others = {o.send_id: (o.status, o.reason, o.due) for o in outcomes if o.status != "sent"}
    if others:
        await repo.finish(others)


class _Lease:
    """What one delivery pass holds: the sends of each claim whose outcome is not recorded
    yet, and until when (by this process's monotonic clock) each claim surely holds them."""

    def __init__(self, now: datetime, lease_s: float) -> None:
        self._now = now
        self._started = time.monotonic()
        self.lease_s = lease_s
        self.held: dict[str, set[int]] = {}
        self._valid_until: dict[str, float] = {}

    def at(self) -> datetime:
        """The pass's ``now``, moved on by the time it has been running."""
        return self._now + timedelta(seconds=time.monotonic() - self._started)

    def until(self) -> datetime:
        return self.at() + timedelta(seconds=self.lease_s)

    def hold(self, token: str, send_ids: Sequence[int], since: float) -> None:
        self.held[token] = set(send_ids)
        self._valid_until[token] = since + self.lease_s

    def renewed(self, token: str, since: float, kept: set[int]) -> None:
        if token in self.held:
            self.held[token] &= kept
            self._valid_until[token] = since + self.lease_s

    def may_send(self, token: str, send_id: int) -> bool:
        left = self._valid_until.get(token, 0.0) - time.monotonic()
        return send_id in self.held.get(token, ()) and left > self.lease_s * SEND_MARGIN

    def release(self, token: str, send_id: int) -> None:
        ids = self.held.get(token)
        if ids is None:
            return
        ids.discard(send_id)
        if not ids:
            del self.held[token]
            del self._valid_until[token]


class EmailDelivery:
    """Delivery for one email service: its policy (transport, batch size, lease) and its
    compiled templates."""

    def __init__(self, emails: EmailService) -> None:
        self.emails = emails

    async def test_send(
        self,
        session: AsyncSession,
        email_id: int,
        *,
        contact_id: int | None,
        actor: Actor,
        now: datetime,
    ) -> TestSendRead:
        """Render for a contact (or the sample) and send it at once to the current user."""
        email = await self.emails.get(session, email_id, actor=actor)
        if actor.user_id is None:
            raise ValidationFailed("Only a signed-in user can receive a test email.")
        to_address = (await EmailRepository(session).users([actor.user_id]))[actor.user_id]["email"]
        if contact_id is not None:
            actor.require("contacts", Perm.VIEW_OTHERS)
            if not await EmailRepository(session).contact_exists(contact_id):
                raise ValidationFailed(
                    "No such contact.",
                    [FieldError("/contact_id", "No contact with this id.", "not_found")],
                )
        sender = self.emails.sender(email)[0]
        token = new_claim_token()
        inserted = await EmailRepository(session).insert_sends(
            [
                {
                    "email_id": email.id,
                    "email_version": email.content_version,
                    "contact_id": contact_id,
                    "recipient": "user",
                    "to_address": to_address,
                    "kind": "transactional",
                    "source": "test",
                    "campaign_id": None,
                    "event_id": None,
                    "rotation": None,
                    "broadcast_id": None,
                    "status": "sending",
                    "reason": None,
                    "cap_action": None,
                    "message_id": new_message_id(domain_of(sender)),
                    "claim_token": token,
                    "attempts": 1,
                    "due_at": now + timedelta(seconds=self.emails.policy.lease_s),
                    "created_at": now,
                    "sent_at": None,
                }
            ]
        )
        send_id = inserted[0][0]
        row = await EmailRepository(session).send(send_id)
        assert row is not None
        prepared = await self._prepare(session, [row], now)
        results = await self.emails.policy.transport.deliver(prepared.messages)
        outcomes = [self._decided(token, sid, d, now) for sid, d in prepared.decided.items()]
        outcomes += [self._outcome(token, row, prepared, r, now) for r in results.values()]
        await _write_outcomes(EmailRepository(session), outcomes)
        await session.refresh(row)
        return TestSendRead(
            send_id=row.id,
            to_address=row.to_address,
            status=row.status,
            reason=row.reason,
            message_id=row.message_id,
        )

    async def deliver_due(
        self, database: Database, *, now: datetime, max_batches: int = 1_000_000
    ) -> DeliveryRead:
        """Deliver every send due at ``now``, a batch at a time: claim (committed), render
        (reading only), hand each message to the transport (no transaction open), record
        each outcome as soon as it is known.

        The next batch is claimed and rendered while the one before is on the wire, so the
        SMTP server never waits for the renderer; at most one batch is claimed ahead. A
        message handed over is always awaited and its outcome recorded, whatever happens to
        the rest."""
        return await _DeliveryPass(self, database, now).run(max_batches)

    def _outcome(
        self,
        token: str,
        row: EmailSend,
        prepared: _Prepared,
        result: DeliveryResult,
        at: datetime,
    ) -> _Outcome:
        policy = self.emails.policy
        if result.status is DeliveryStatus.SENT:
            kept = None
            if row.id in prepared.raw:
                sender, recipients, subject, raw = prepared.raw[row.id]
                kept = {
                    "send_id": row.id,
                    "message_id": row.message_id,
                    "sender": sender,
                    "recipients": recipients,
                    "subject": subject,
                    "raw": raw,
                    "size": len(raw),
                    "created_at": at,
                }
            version = prepared.versions[row.id]
            return _Outcome(row.id, token, "sent", "sent", at, version=version, kept=kept)
        if result.status is DeliveryStatus.TEMPORARY and row.attempts < policy.max_attempts:
            return _Outcome(
                row.id,
                token,
                "queued",
                "retried",
                at,
                reason=f"Attempt {row.attempts} failed: {result.detail}",
                due=at + policy.retry_delay(row.attempts),
            )
        reason = result.detail or "The server refused it."
        return _Outcome(row.id, token, "failed", "failed", at, reason=reason)

    @staticmethod
    def _decided(
        token: str, send_id: int, decided: tuple[str, str | None, datetime | None], at: datetime
    ) -> _Outcome:
        """A send settled before it went: skipped, deferred by the cap, or unrenderable."""
        status, reason, due = decided
        counted_as = {"skipped": "skipped", "queued": "deferred"}.get(status, "failed")
        return _Outcome(send_id, token, status, counted_as, at, reason=reason, due=due)

    async def _capped_at_start(
        self, session: AsyncSession, rows: Sequence[EmailSend], now: datetime
    ) -> tuple[set[int], dict[int, tuple[datetime, int, int]]]:
        """The sends the frequency cap applies to, and the contacts already over it."""
        capped = [
            r
            for r in rows
            if r.kind == "marketing" and r.recipient == "contact" and r.contact_id is not None
        ]
        if not capped:
            return set(), {}
        # Only what went counts here: the rows being delivered are themselves queued.
        per_contact: dict[int, int] = {}
        for row in capped:
            per_contact[row.contact_id or 0] = per_contact.get(row.contact_id or 0, 0) + 1
        over = await self.emails.over_cap(
            session, list(per_contact), now, statuses=("sent",), extra=None
        )
        return {r.id for r in capped}, over

    async def _frequency_capped(
        self,
        session: AsyncSession,
        row: EmailSend,
        now: datetime,
        over: dict[int, tuple[datetime, int, int]],
        seen: dict[int, int],
    ) -> tuple[str, str | None, datetime | None] | None:
        """The decision for a send its contact's frequency cap holds back, or None if it goes.
        ``seen`` counts the contact's earlier sends in this batch."""
        cid = row.contact_id or 0
        seen[cid] = seen.get(cid, 0) + 1
        cap = over.get(cid)
        if cap is None and seen[cid] > 1:
            over_now = await self.emails.over_cap(
                session, [cid], now, statuses=("sent",), extra={cid: seen[cid] - 1}
            )
            cap = over_now.get(cid)
        if cap is None:
            return None
        free_at, limit, days = cap
        text = f"{limit} marketing emails per {days} days"
        if row.cap_action == "skip":
            return ("skipped", f"Frequency cap reached ({text}).", None)
        return ("queued", f"Deferred by the frequency cap ({text}).", free_at)

    def _shared_by_every_message(
        self, email: Email, compiled: CompiledEmail
    ) -> tuple[CompiledEmail, list[tuple[str, str]], str, str]:
        """The compiled email, headers and sender every message of one email shares."""
        headers: list[tuple[str, str]] = [(h["name"], h["value"]) for h in (email.headers or [])]
        headers.append(("X-Trellis-Email", str(email.id)))
        return (compiled, headers, *self.emails.sender(email))

    async def _prepare(
        self, session: AsyncSession, rows: Sequence[EmailSend], now: datetime
    ) -> _Prepared:
        prepared = _Prepared()
        repo = EmailRepository(session)
        emails = await repo.by_ids(sorted({r.email_id for r in rows}))
        contact_ids = sorted({r.contact_id for r in rows if r.contact_id is not None})
        data = await self.emails.render_input(session, contact_ids)
        capped_ids, over = await self._capped_at_start(session, rows, now)
        seen: dict[int, int] = {}
        date = now.date().isoformat()
        # What every message of one email shares, worked out once per batch.
        shared: dict[int, tuple[CompiledEmail, list[tuple[str, str]], str, str]] = {}
        for index, row in enumerate(rows):
            if index % RENDER_SLICE == RENDER_SLICE - 1:
                await asyncio.sleep(0)
            email = emails.get(row.email_id)
            if email is None:
                prepared.decided[row.id] = ("failed", "The email no longer exists.", None)
                continue
            if row.id in capped_ids:
                capped = await self._frequency_capped(session, row, now, over, seen)
                if capped is not None:
                    prepared.decided[row.id] = capped
                    continue
            common = shared.get(email.id)
            if common is None:
                try:
                    compiled = self.emails.compiled(email)
                except Exception as exc:
                    prepared.decided[row.id] = (
                        "failed",
                        f"The email does not render: {exc}",
                        None,
                    )
                    continue
                common = self._shared_by_every_message(email, compiled)
                shared[email.id] = common
            compiled, headers, sender, sender_name = common
            unsubscribe, webview, preferences, mailto = self.emails.links(row.id, sender)
            if row.contact_id is not None and row.contact_id in data:
                contact, owner = data[row.contact_id]
            elif row.contact_id is None:
                contact, owner = dict(SAMPLE.contact), dict(SAMPLE.owner)
            else:
                prepared.decided[row.id] = ("failed", "The contact no longer exists.", None)
                continue
            try:
                rendered = compiled.render(
                    RenderInput(
                        contact=contact,
                        owner=owner,
                        unsubscribe_url=unsubscribe,
                        webview_url=webview,
                        preferences_url=preferences,
                        date=date,
                    ),
                    send_id=row.id,
                    tracking=self.emails.policy.tracking,
                )
            except Exception as exc:
                # A template that renders for the sample but not for this contact's data.
                prepared.decided[row.id] = ("failed", f"The email does not render: {exc}", None)
                continue
            envelope = Envelope(
                message_id=row.message_id,
                from_address=sender,
                from_name=sender_name,
                to_address=row.to_address,
                subject=rendered.subject,
                reply_to=email.reply_to,
                date=now,
                list_unsubscribe_url=unsubscribe,
                list_unsubscribe_mailto=mailto,
                language=email.language,
                headers=headers,
            )
            try:
                raw = build_message(
                    envelope,
                    html=rendered.html,
                    text=rendered.text,
                    html_qp=compiled.html_encoder.encode(rendered.html_parts),
                )
            except UnsafeHeader as exc:
                # Data that reached the database without the API's check: this send fails
                # for good, the batch's other messages still go.
                prepared.decided[row.id] = ("failed", str(exc), None)
                continue
            if self.emails.policy.dkim is not None:
                raw = self.emails.policy.dkim.sign(raw)
            prepared.messages.append(
                OutgoingMessage(key=row.id, sender=sender, recipients=[row.to_address], raw=raw)
            )
            prepared.versions[row.id] = email.content_version
            if self.emails.policy.transport.keeps_messages:
                prepared.raw[row.id] = (
                    sender,
                    [row.to_address],
                    rendered.subject,
                    raw.decode("utf-8", errors="replace"),
                )
        return prepared


class _DeliveryPass:
    """One run of :meth:`EmailDelivery.deliver_due`: a task claiming and rendering batches,
    one renewing the leases, and one task per message handed over."""

    def __init__(self, delivery: EmailDelivery, database: Database, now: datetime) -> None:
        self.delivery = delivery
        self.policy = delivery.emails.policy
        self.database = database
        self.lease = _Lease(now, self.policy.lease_s)
        self.total = DeliveryRead(sent=0, failed=0, retried=0, skipped=0, deferred=0)
        # Handed over and not recorded yet: what a crash at this moment could send again.
        self.window = asyncio.Semaphore(max(1, self.policy.in_flight))
        self.recorder: GroupCommit[_Outcome, bool] = GroupCommit(
            self._write, name="email-outcomes", max_batch=500
        )
        self.tasks: set[asyncio.Task[None]] = set()
        self.renewing = asyncio.Lock()

    async def run(self, max_batches: int) -> DeliveryRead:
        claims: asyncio.Queue[_Claim | None] = asyncio.Queue(maxsize=1)
        producer = asyncio.create_task(self._claim_batches(claims, max_batches))
        renewer = asyncio.create_task(self._renew())
        try:
            while (claim := await claims.get()) is not None:
                claims.task_done()
                await self._hand_over(claim)
            await producer
            while self.tasks:
                await asyncio.gather(*list(self.tasks))
        finally:
            producer.cancel()
            # What is on the wire is answered and recorded, even when the pass stops early.
            if self.tasks:
                await asyncio.wait(list(self.tasks), timeout=STOP_GRACE_S)
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
        return self.total

    async def _claim_batches(self, claims: asyncio.Queue[_Claim | None], max_batches: int) -> None:
        limit = max(1, min(self.policy.batch_size, FIRST_BATCH))
        try:
            for _ in range(max_batches):
                token = new_claim_token()
                since = time.monotonic()
                async with self.database.unit_of_work(brief=True) as session:
                    rows = await EmailRepository(session).claim_due(
                        now=self.lease.at(),
                        limit=limit,
                        lease_until=self.lease.until(),
                        token=token,
                    )
                if not rows:
                    return
                self.lease.hold(token, [r.id for r in rows], since)
                async with self.database.unit_of_work(read_only=True, brief=True) as session:
                    prepared = await self.delivery._prepare(session, rows, self.lease.at())
                await claims.put(_Claim(token, {r.id: r for r in rows}, prepared))
                # The next batch is claimed once this one is being handed over: one ahead.
                await claims.join()
                if len(rows) < limit:
                    return
                limit = self.policy.batch_size
        finally:
            await claims.put(None)

    async def _hand_over(self, claim: _Claim) -> None:
        at = self.lease.at()
        for send_id, decided in claim.prepared.decided.items():
            self._spawn(self._record(self.delivery._decided(claim.token, send_id, decided, at)))
        lost = 0
        for message in claim.prepared.messages:
            await self.window.acquire()
            if not self.lease.may_send(claim.token, message.key):
                # A slow claim, render or wait for the window used up the margin: renew now.
                await self._renew_now()
            if not self.lease.may_send(claim.token, message.key):
                # The lease could not be renewed (or another process took the claim over):
                # the send comes back to whoever claims it when the lease ends.
                self.window.release()
                lost += 1
                continue
            self._spawn(self._send(claim, message))
        if lost:
            log.warning("email sends left to their lease", extra={"count": lost})

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _send(self, claim: _Claim, message: OutgoingMessage) -> None:
        try:
            try:
                results = await self.policy.transport.deliver([message])
                result = results.get(message.key) or DeliveryResult(
                    DeliveryStatus.TEMPORARY, "The transport gave no answer."
                )
            except Exception as exc:
                log.exception("the transport failed on message %s", message.key)
                result = DeliveryResult(DeliveryStatus.TEMPORARY, f"{type(exc).__name__}: {exc}")
            row = claim.rows[message.key]
            outcome = self.delivery._outcome(
                claim.token, row, claim.prepared, result, self.lease.at()
            )
            await self._record(outcome)
        finally:
            self.window.release()

    async def _record(self, outcome: _Outcome) -> None:
        """Record one outcome with the others arriving now; while the database is away, try
        again for as long as the lease lasts (after that another process may have the send)."""
        delay = 0.1
        give_up = time.monotonic() + self.policy.lease_s
        while True:
            try:
                held = await self.recorder.submit(outcome)
                break
            except Exception:
                if time.monotonic() > give_up:
                    log.exception(
                        "email outcome not recorded; the send comes back after its lease",
                        extra={"send_id": outcome.send_id, "status": outcome.status},
                    )
                    return
                log.warning("recording an email outcome failed; retrying", exc_info=True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECORD_BACKOFF_MAX_S)
        self.lease.release(outcome.token, outcome.send_id)
        if held:
            setattr(self.total, outcome.counted_as, getattr(self.total, outcome.counted_as) + 1)
        else:
            log.warning(
                "email send claimed by another process; its outcome here is not recorded",
                extra={"send_id": outcome.send_id, "status": outcome.status},
            )

    async def _write(self, outcomes: Sequence[_Outcome]) -> list[bool]:
        claims: dict[str, list[int]] = {}
        for outcome in outcomes:
            claims.setdefault(outcome.token, []).append(outcome.send_id)
        async with self.database.unit_of_work(brief=True) as session:
            repo = EmailRepository(session)
            held = await repo.holding(dict(sorted(claims.items())))
            await _write_outcomes(repo, [o for o in outcomes if o.send_id in held])
        return [o.send_id in held for o in outcomes]

    async def _renew(self) -> None:
        every = self.policy.lease_s / RENEWALS_PER_LEASE
        while True:
            await asyncio.sleep(every)
            await self._renew_now()

    async def _renew_now(self) -> None:
        async with self.renewing:
            claims = {t: sorted(ids) for t, ids in sorted(self.lease.held.items()) if ids}
            if not claims:
                return
            since = time.monotonic()
            until = self.lease.until()
            try:
                async with self.database.unit_of_work(brief=True) as session:
                    repo = EmailRepository(session)
                    kept = {t: await repo.renew(t, ids, until) for t, ids in claims.items()}
            except Exception:
                # The next renewal tries again; until one succeeds, messages stop being
                # handed over once the lease is half gone (SEND_MARGIN).
                log.warning("renewing the email delivery lease failed", exc_info=True)
                return
            for token, ids in kept.items():
                self.lease.renewed(token, since, ids)


email_delivery = EmailDelivery(email_service)
