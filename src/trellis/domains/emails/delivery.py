"""Email delivery: claim due sends, render them, hand them to the transport, record each
outcome; and the test send, which does the same for one message at once.

:meth:`EmailDelivery.deliver_due` runs after the commit, driven by a job and a background
service: it claims due rows (``sending``, with a lease, the attempt counted), renders them from
the email version's compiled templates, hands them to the transport and records each outcome.
A temporary failure goes back to the queue with a growing delay; after the last attempt, or on
a permanent refusal, the send is ``failed``. A process that dies after claiming leaves its rows
to come back when the lease ends, with their Message-ID unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor, Perm
from trellis.db.models import EmailSend
from trellis.db.session import Database
from trellis.domains.emails.render import SAMPLE, CompiledEmail, RenderInput
from trellis.domains.emails.repository import EmailRepository
from trellis.domains.emails.schemas import DeliveryRead, TestSendRead
from trellis.domains.emails.service import EmailService, email_service
from trellis.errors import FieldError, ValidationFailed
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

FIRST_BATCH = 100
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
        await self._record(session, [row], prepared, results, now)
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
        (reading only), hand over to the transport (no transaction open), record.

        The batches overlap: while one is on the wire, the next is claimed and rendered and
        the one before is recorded, so the SMTP server never waits for the renderer and the
        renderer never waits for the server. A batch handed over is always awaited and
        recorded, whatever happens to the rest."""
        total = DeliveryRead(sent=0, failed=0, retried=0, skipped=0, deferred=0)
        in_flight: tuple[Sequence[EmailSend], _Prepared, asyncio.Task[Any]] | None = None
        # A smaller first batch puts the connections to work sooner.
        limit = max(1, min(self.emails.policy.batch_size, FIRST_BATCH))
        try:
            for _ in range(max_batches):
                async with database.unit_of_work(brief=True) as session:
                    rows = await EmailRepository(session).claim_due(
                        now=now,
                        limit=limit,
                        lease_until=now + timedelta(seconds=self.emails.policy.lease_s),
                    )
                if not rows:
                    break
                async with database.unit_of_work(read_only=True, brief=True) as session:
                    prepared = await self._prepare(session, rows, now)
                previous, in_flight = in_flight, (rows, prepared, self._hand_over(prepared))
                if previous is not None:
                    await self._finish_batch(database, previous, now, total)
                if len(rows) < limit:
                    break
                limit = self.emails.policy.batch_size
        finally:
            if in_flight is not None:
                await self._finish_batch(database, in_flight, now, total)
        return total

    def _hand_over(self, prepared: _Prepared) -> asyncio.Task[Any]:
        async def send() -> Mapping[int, DeliveryResult]:
            if not prepared.messages:
                return {}
            return await self.emails.policy.transport.deliver(prepared.messages)

        return asyncio.ensure_future(send())

    async def _finish_batch(
        self,
        database: Database,
        batch: tuple[Sequence[EmailSend], _Prepared, asyncio.Task[Any]],
        now: datetime,
        total: DeliveryRead,
    ) -> None:
        rows, prepared, task = batch
        results = await task
        async with database.unit_of_work(brief=True) as session:
            counts = await self._record(session, rows, prepared, results, now)
        for name, value in counts.items():
            setattr(total, name, getattr(total, name) + value)

    async def _prepare(
        self, session: AsyncSession, rows: Sequence[EmailSend], now: datetime
    ) -> _Prepared:
        prepared = _Prepared()
        repo = EmailRepository(session)
        emails = await repo.by_ids(sorted({r.email_id for r in rows}))
        contact_ids = sorted({r.contact_id for r in rows if r.contact_id is not None})
        data = await self.emails.render_input(session, contact_ids)
        capped = [
            r
            for r in rows
            if r.kind == "marketing" and r.recipient == "contact" and r.contact_id is not None
        ]
        capped_ids = {r.id for r in capped}
        over: dict[int, tuple[datetime, int, int]] = {}
        if capped:
            # Only what went counts here: the rows being delivered are themselves queued.
            per_contact: dict[int, int] = {}
            for row in capped:
                per_contact[row.contact_id or 0] = per_contact.get(row.contact_id or 0, 0) + 1
            over = await self.emails.over_cap(
                session, list(per_contact), now, statuses=("sent",), extra=None
            )
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
                cid = row.contact_id or 0
                seen[cid] = seen.get(cid, 0) + 1
                cap = over.get(cid)
                if cap is None and seen[cid] > 1:
                    over_now = await self.emails.over_cap(
                        session, [cid], now, statuses=("sent",), extra={cid: seen[cid] - 1}
                    )
                    cap = over_now.get(cid)
                if cap is not None:
                    free_at, limit, days = cap
                    text = f"{limit} marketing emails per {days} days"
                    if row.cap_action == "skip":
                        prepared.decided[row.id] = (
                            "skipped",
                            f"Frequency cap reached ({text}).",
                            None,
                        )
                    else:
                        prepared.decided[row.id] = (
                            "queued",
                            f"Deferred by the frequency cap ({text}).",
                            free_at,
                        )
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
                headers: list[tuple[str, str]] = [
                    (h["name"], h["value"]) for h in (email.headers or [])
                ]
                headers.append(("X-Trellis-Email", str(email.id)))
                common = (compiled, headers, *self.emails.sender(email))
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

    async def _record(
        self,
        session: AsyncSession,
        rows: Sequence[EmailSend],
        prepared: _Prepared,
        results: Mapping[int, DeliveryResult],
        now: datetime,
    ) -> dict[str, int]:
        repo = EmailRepository(session)
        counts = {"sent": 0, "failed": 0, "retried": 0, "skipped": 0, "deferred": 0}
        sent: list[int] = []
        outcomes: dict[int, tuple[str, str | None, datetime | None]] = {}
        by_id = {r.id: r for r in rows}
        for send_id, decided in prepared.decided.items():
            outcomes[send_id] = decided
            counts[
                "skipped"
                if decided[0] == "skipped"
                else "deferred"
                if decided[0] == "queued"
                else "failed"
            ] += 1
        for send_id, result in results.items():
            row = by_id[send_id]
            if result.status is DeliveryStatus.SENT:
                sent.append(send_id)
            elif (
                result.status is DeliveryStatus.TEMPORARY
                and row.attempts < self.emails.policy.max_attempts
            ):
                outcomes[send_id] = (
                    "queued",
                    f"Attempt {row.attempts} failed: {result.detail}",
                    now + self.emails.policy.retry_delay(row.attempts),
                )
                counts["retried"] += 1
            else:
                outcomes[send_id] = ("failed", result.detail or "The server refused it.", None)
                counts["failed"] += 1
        if sent:
            await repo.mark_sent(sent, now=now, version=0)
            await repo.set_versions({sid: prepared.versions[sid] for sid in sent})
            counts["sent"] += len(sent)
            kept = [
                {
                    "send_id": sid,
                    "message_id": by_id[sid].message_id,
                    "sender": prepared.raw[sid][0],
                    "recipients": prepared.raw[sid][1],
                    "subject": prepared.raw[sid][2],
                    "raw": prepared.raw[sid][3],
                    "size": len(prepared.raw[sid][3]),
                    "created_at": now,
                }
                for sid in sent
                if sid in prepared.raw
            ]
            if kept:
                await repo.add_outbox(kept)
        if outcomes:
            await repo.finish(outcomes, now=now)
        return counts


email_delivery = EmailDelivery(email_service)
