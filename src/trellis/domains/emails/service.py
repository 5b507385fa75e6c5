"""Emails: content, queueing (the rules a message goes out under) and the per-contact
frequency settings.

Queueing writes a send row in the caller's transaction: a campaign step, a broadcast, a test
send. Marketing messages respect Do Not Contact, go once to each contact (unless the step allows
repeats) and count against the frequency cap; transactional ones ignore all three. A message
refused by a rule still gets its row, status ``skipped`` with the reason. Delivery is
:mod:`trellis.domains.emails.delivery`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from jinja2 import TemplateError
from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor, Perm
from trellis.db.models import (
    ContactEmailSettings,
    Email,
    EmailSend,
    EmailVersion,
    OutboxMessage,
)
from trellis.db.pagination import Page, PageRequest
from trellis.domains.audit.service import AuditAction, audit, diff
from trellis.domains.contacts.bulk import contact_bulk_service
from trellis.domains.contacts.service import contact_service, visible_contacts
from trellis.domains.emails.links import LinkSigner, links_for
from trellis.domains.emails.render import (
    SAMPLE,
    CompiledEmail,
    EmailContent,
    NoTracking,
    Rendered,
    RenderInput,
    TemplateProblem,
    TrackingHook,
    check_content,
    compile_email,
)
from trellis.domains.emails.repository import LIVE, EmailRepository
from trellis.domains.emails.schemas import (
    EmailCreate,
    EmailRead,
    EmailUpdate,
    FrequencyRead,
    FrequencyUpdate,
    PreviewRead,
)
from trellis.domains.projects.links import project_links
from trellis.domains.projects.schemas import ProjectRef
from trellis.errors import FieldError, NotFound, ValidationFailed
from trellis.events.base import EmailRequest, QueuedEmail
from trellis.jobs.base import NoUnitOfWork, enqueue_job
from trellis.kit.crud import AuditedCrud, EntityKind
from trellis.runtime.mailer import (
    DkimSigner,
    OutboxTransport,
    Transport,
    domain_of,
    new_message_id,
)

log = logging.getLogger(__name__)

DELIVER_JOB = "emails.deliver"
# Fields whose change changes the rendered message: they bump the content version.
CONTENT_FIELDS = (
    "subject",
    "preheader",
    "from_name",
    "from_address",
    "reply_to",
    "headers",
    "body_format",
    "body",
    "text_body",
    "language",
    "utm",
)
COMPILED_CACHE_SIZE = 256


@dataclass
class MailPolicy:
    """Delivery settings the composition root reads from configuration."""

    transport: Transport = field(default_factory=OutboxTransport)
    signer: LinkSigner = field(
        default_factory=lambda: LinkSigner(b"unconfigured", "http://127.0.0.1:8000")
    )
    from_address: str = "trellis@localhost"
    from_name: str = "Trellis"
    unsubscribe_mailto: str | None = None
    dkim: DkimSigner | None = None
    batch_size: int = 500
    max_attempts: int = 5
    retry_first_delay_s: float = 60.0
    retry_max_delay_s: float = 6 * 3600.0
    lease_s: float = 300
    # Messages handed to the transport whose outcome is not recorded yet, at most: what a
    # crash can send a second time.
    in_flight: int = 16
    frequency_limit: int = 0
    frequency_days: int = 7
    tracking: TrackingHook = field(default_factory=NoTracking)

    def retry_delay(self, attempt: int) -> timedelta:
        seconds = self.retry_first_delay_s * 2 ** max(attempt - 1, 0)
        return timedelta(seconds=min(seconds, self.retry_max_delay_s))


def _snapshot(email: Email) -> dict[str, Any]:
    return {
        "name": email.name,
        "kind": email.kind,
        "is_published": email.is_published,
        **{name: getattr(email, name) for name in CONTENT_FIELDS},
    }


def content_of(email: Email | EmailVersion) -> EmailContent:
    return EmailContent(
        subject=email.subject,
        preheader=email.preheader,
        body=email.body,
        body_format=email.body_format,
        text_body=email.text_body,
        utm=tuple((email.utm or {}).items()),
        language=email.language,
    )


EMAILS: AuditedCrud[Email] = AuditedCrud(
    EntityKind(
        resource="emails",
        entity_type="email",
        label="email",
        repository=EmailRepository,
        snapshot=_snapshot,
        projectable=True,
        publishable=True,
    )
)


class EmailService:
    def __init__(self) -> None:
        self.policy = MailPolicy()
        self._compiled: dict[tuple[int, int, int], CompiledEmail] = {}

    def configure(self, policy: MailPolicy) -> None:
        self.policy = policy

    # -- compiled templates -------------------------------------------------------------------

    def compiled(self, email: Email) -> CompiledEmail:
        """The email's templates, compiled once per content version."""
        return self._compiled_content(email.id, email.content_version, content_of(email))

    def _compiled_content(
        self, email_id: int, version: int, content: EmailContent
    ) -> CompiledEmail:
        # The content's hash tells apart emails of two databases that share an id and version.
        key = (email_id, version, hash(content))
        found = self._compiled.get(key)
        if found is None:
            found = compile_email(content)
            if len(self._compiled) >= COMPILED_CACHE_SIZE:
                self._compiled.pop(next(iter(self._compiled)))
            self._compiled[key] = found
        return found

    # -- reading ------------------------------------------------------------------------------

    async def get(self, session: AsyncSession, email_id: int, *, actor: Actor) -> Email:
        return await EMAILS.get(session, email_id, actor=actor)

    async def read(self, session: AsyncSession, email: Email) -> EmailRead:
        return (await self.read_many(session, [email]))[0]

    async def read_many(self, session: AsyncSession, emails: Sequence[Email]) -> list[EmailRead]:
        projects = await project_links.projects_of(session, "email", [e.id for e in emails])
        out = []
        for email in emails:
            item = EmailRead.model_validate(email)
            item.projects = [ProjectRef(id=p.id, name=p.name) for p in projects[email.id]]
            out.append(item)
        return out

    async def list_page(
        self,
        session: AsyncSession,
        *,
        actor: Actor,
        page: PageRequest,
        q: str | None = None,
        project_id: int | None = None,
        kind: str | None = None,
        is_published: bool | None = None,
    ) -> Page[Email]:
        return await EMAILS.list_page(
            session,
            actor=actor,
            page=page,
            q=q,
            project_id=project_id,
            where=[
                Email.kind == kind if kind is not None else None,
                Email.is_published.is_(is_published) if is_published is not None else None,
            ],
        )

    async def existing_ids(
        self, session: AsyncSession, ids: Sequence[int], *, actor: Actor | None = None
    ) -> set[int]:
        return await EMAILS.existing_ids(session, ids, actor=actor)

    # -- writing ------------------------------------------------------------------------------

    @staticmethod
    def _validate(content: EmailContent) -> None:
        errors = check_content(content)
        if errors:
            raise ValidationFailed("The email cannot be saved as it is.", errors)

    async def create(
        self, session: AsyncSession, *, data: EmailCreate, actor: Actor, now: datetime
    ) -> Email:
        email = Email(
            name=data.name,
            kind=data.kind,
            subject=data.subject,
            preheader=data.preheader,
            from_name=data.from_name,
            from_address=data.from_address.lower(),
            reply_to=data.reply_to,
            headers=[h.model_dump() for h in data.headers],
            body_format=data.body_format,
            body=data.body,
            text_body=data.text_body,
            language=data.language,
            utm=data.utm.model_dump(),
            is_published=data.is_published,
            content_version=1,
            created_by_id=actor.user_id,
            created_at=now,
            updated_at=now,
        )
        self._validate(content_of(email))
        return await EMAILS.create(session, email, actor=actor, now=now, projects=data.projects)

    async def update(
        self,
        session: AsyncSession,
        email_id: int,
        *,
        data: EmailUpdate,
        actor: Actor,
        now: datetime,
        expected_version: int | None,
    ) -> Email:
        email = await EMAILS.for_edit(session, email_id, actor=actor)
        given = data.model_dump(exclude_unset=True)

        async def apply(email: Email) -> None:
            before = _snapshot(email)
            for name in ("name", "kind", "subject", "preheader", "from_name", "reply_to"):
                if given.get(name) is not None:
                    setattr(email, name, given[name])
            for name in ("body_format", "body", "language", "is_published"):
                if given.get(name) is not None:
                    setattr(email, name, given[name])
            if given.get("from_address") is not None:
                email.from_address = given["from_address"].lower()
            if data.headers is not None:
                email.headers = [h.model_dump() for h in data.headers]
            if data.utm is not None:
                email.utm = data.utm.model_dump()
            if data.generate_text:
                email.text_body = None
            elif "text_body" in given:
                email.text_body = given["text_body"]
            after = _snapshot(email)
            if any(before[name] != after[name] for name in CONTENT_FIELDS):
                self._validate(content_of(email))
                EmailRepository(session).keep_version(email.id, email.content_version, before, now)
                email.content_version += 1

        await EMAILS.update(
            session,
            email,
            actor=actor,
            now=now,
            expected_version=expected_version,
            apply=apply,
            projects=data.projects,
        )
        return email

    async def delete(
        self, session: AsyncSession, email_id: int, *, actor: Actor, now: datetime
    ) -> None:
        email = await EMAILS.for_delete(session, email_id, actor=actor)
        await EMAILS.delete(session, email, actor=actor, now=now)

    # -- preview and test send ----------------------------------------------------------------

    async def render_input(
        self,
        session: AsyncSession,
        contact_ids: Sequence[int],
    ) -> dict[int, tuple[dict[str, Any], dict[str, Any]]]:
        """Contact and owner fields per contact."""
        values = await contact_bulk_service.values(session, contact_ids=list(contact_ids))
        repo = EmailRepository(session)
        owner_ids = await repo.owners_of(list(values))
        users = await repo.users(sorted(set(owner_ids.values())))
        return {
            cid: (dict(found), users.get(owner_ids.get(cid, 0), {}))
            for cid, found in values.items()
        }

    def links(self, send_id: int | None, sender: str) -> tuple[str, str, str, str]:
        mailto = self.policy.unsubscribe_mailto or f"unsubscribe@{domain_of(sender)}"
        if send_id is None:
            base = self.policy.signer.base_url.rstrip("/")
            return (
                f"{base}/t/unsubscribe/preview",
                f"{base}/t/view/preview",
                f"{base}/t/preferences/preview",
                mailto,
            )
        found = links_for(self.policy.signer, send_id, mailto_address=mailto)
        return (
            found.unsubscribe_url,
            found.webview_url,
            found.preferences_url,
            found.unsubscribe_mailto,
        )

    async def preview(
        self,
        session: AsyncSession,
        email_id: int,
        *,
        contact_id: int | None,
        actor: Actor,
        now: datetime,
    ) -> PreviewRead:
        email = await self.get(session, email_id, actor=actor)
        contact, owner = dict(SAMPLE.contact), dict(SAMPLE.owner)
        if contact_id is not None:
            actor.require("contacts", Perm.VIEW_OTHERS)
            found = await self.render_input(session, [contact_id])
            if contact_id not in found:
                raise ValidationFailed(
                    "No such contact.",
                    [FieldError("/contact_id", "No contact with this id.", "not_found")],
                )
            contact, owner = found[contact_id]
        unsubscribe, webview, preferences, _ = self.links(None, self.sender(email)[0])
        try:
            rendered = self.compiled(email).render(
                RenderInput(
                    contact=contact,
                    owner=owner,
                    unsubscribe_url=unsubscribe,
                    webview_url=webview,
                    preferences_url=preferences,
                    date=now.date().isoformat(),
                )
            )
        except TemplateProblem as exc:
            raise ValidationFailed("The email does not render.", exc.errors) from exc
        except TemplateError as exc:
            # A bound of the sandbox, or an error only this contact's data brings out.
            raise ValidationFailed(
                "The email does not render.",
                [FieldError("/body", f"The email does not render: {exc}", "template_error")],
            ) from None
        return PreviewRead(
            subject=rendered.subject, html=rendered.html, text=rendered.text, links=rendered.links
        )

    async def render_send(
        self, session: AsyncSession, send_id: int, *, tracking: TrackingHook | None
    ) -> Rendered | None:
        """A message as its recipient got it, for the web view: the version of the email that
        was sent (sends older than version keeping get the current one) with the contact's data
        and the send's own links; None when either is gone."""
        repo = EmailRepository(session)
        row = await repo.send(send_id)
        email = await repo.get(row.email_id) if row is not None else None
        if row is None or email is None:
            return None
        kept = None
        if row.email_version != email.content_version:
            kept = await repo.version(email.id, row.email_version)
        compiled = (
            self._compiled_content(email.id, kept.version, content_of(kept))
            if kept is not None
            else self.compiled(email)
        )
        contact, owner = dict(SAMPLE.contact), dict(SAMPLE.owner)
        if row.contact_id is not None:
            found = await self.render_input(session, [row.contact_id])
            if row.contact_id not in found:
                return None
            contact, owner = found[row.contact_id]
        unsubscribe, webview, preferences, _ = self.links(row.id, self.sender(email)[0])
        return compiled.render(
            RenderInput(
                contact=contact,
                owner=owner,
                unsubscribe_url=unsubscribe,
                webview_url=webview,
                preferences_url=preferences,
                date=(row.sent_at or row.created_at).date().isoformat(),
            ),
            send_id=row.id,
            tracking=tracking,
        )

    def sender(self, email: Email) -> tuple[str, str]:
        if email.from_address:
            return email.from_address, email.from_name
        return self.policy.from_address, email.from_name or self.policy.from_name

    # -- queueing -----------------------------------------------------------------------------

    async def _caps(
        self, session: AsyncSession, contact_ids: Sequence[int]
    ) -> dict[int, tuple[int, int]]:
        """(limit, days) per contact with a frequency cap; contacts without one are absent."""
        repo = EmailRepository(session)
        default = (self.policy.frequency_limit, self.policy.frequency_days)
        if not default[0] and not await repo.any_frequency_override():
            return {}
        overrides = await repo.frequency_overrides(contact_ids)
        caps: dict[int, tuple[int, int]] = {}
        for cid in contact_ids:
            limit, days = overrides.get(cid, (None, None))
            effective = (
                limit if limit is not None else default[0],
                days if days is not None else default[1],
            )
            if effective[0]:
                caps[cid] = effective
        return caps

    async def over_cap(
        self,
        session: AsyncSession,
        contact_ids: Sequence[int],
        now: datetime,
        *,
        statuses: Sequence[str],
        extra: Mapping[int, int] | None = None,
    ) -> dict[int, tuple[datetime, int, int]]:
        """Contacts at their cap: when the next message may go, the limit and the days."""
        caps = await self._caps(session, contact_ids)
        if not caps:
            return {}
        longest = max(days for _, days in caps.values())
        recent = await EmailRepository(session).recent_marketing(
            list(caps), now - timedelta(days=longest), statuses=statuses
        )
        over: dict[int, tuple[datetime, int, int]] = {}
        for cid, (limit, days) in caps.items():
            window = now - timedelta(days=days)
            times = sorted(t for t in recent.get(cid, []) if t >= window)
            pending = (extra or {}).get(cid, 0)
            if len(times) + pending >= limit:
                index = max(len(times) - limit + pending, 0)
                free_at = times[index] + timedelta(days=days) if times else now
                over[cid] = (max(free_at, now + timedelta(seconds=1)), limit, days)
        return over

    async def queue(
        self,
        session: AsyncSession,
        request: EmailRequest,
        contact_ids: Sequence[int],
        *,
        now: datetime,
        source: str = "campaign",
        campaign_id: int | None = None,
        event_id: int | None = None,
        rotations: Mapping[int, int] | None = None,
        broadcast_id: int | None = None,
    ) -> dict[int, QueuedEmail]:
        """Queue one email for contacts under the marketing or transactional rules; every
        contact gets a send row, refused ones as skipped with the reason."""
        if not contact_ids:
            return {}
        repo = EmailRepository(session)
        email = await repo.get(request.email_id)
        if email is None:
            reason = f"The email {request.email_id} does not exist."
            return dict.fromkeys(contact_ids, QueuedEmail("skipped", reason))
        if not email.is_published:
            reason = f"The email '{email.name}' is not published."
            return dict.fromkeys(contact_ids, QueuedEmail("skipped", reason))
        marketing = request.kind == "marketing"
        addresses = await repo.addresses(contact_ids)
        results: dict[int, QueuedEmail] = {}
        due: dict[int, datetime] = {}
        for cid in contact_ids:
            if not addresses.get(cid):
                results[cid] = QueuedEmail("skipped", "The contact has no email address.")
        remaining = [c for c in contact_ids if c not in results]
        if marketing and remaining:
            await self._apply_marketing_rules(
                session, repo, email.id, request, remaining, results, due, now=now
            )
        sender = self.sender(email)[0]
        domain = domain_of(sender)
        rows = []
        for cid in contact_ids:
            result = results.get(cid, QueuedEmail("queued"))
            skipped = result.status == "skipped"
            rows.append(
                {
                    "email_id": email.id,
                    "email_version": email.content_version,
                    "contact_id": cid,
                    "recipient": "contact",
                    "to_address": addresses.get(cid) or "",
                    "kind": request.kind,
                    "source": source,
                    "campaign_id": campaign_id,
                    "event_id": event_id,
                    "rotation": (rotations or {}).get(cid) if event_id is not None else None,
                    "broadcast_id": broadcast_id,
                    "status": "skipped" if skipped else "queued",
                    "reason": result.reason or None,
                    "cap_action": request.over_cap if marketing else None,
                    "message_id": new_message_id(domain),
                    "attempts": 0,
                    "due_at": None if skipped else due.get(cid, now),
                    "created_at": now,
                    "sent_at": None,
                }
            )
        inserted = await repo.insert_sends(rows)
        if any(status == "queued" for _, _, status in inserted):
            self._wake()
        return {cid: results.get(cid, QueuedEmail("queued")) for cid in contact_ids}

    async def _apply_marketing_rules(
        self,
        session: AsyncSession,
        repo: EmailRepository,
        email_id: int,
        request: EmailRequest,
        remaining: list[int],
        results: dict[int, QueuedEmail],
        due: dict[int, datetime],
        *,
        now: datetime,
    ) -> None:
        """What marketing email may not do: mail contacts on Do Not Contact or opted out of
        the category, repeat an email, or go over the frequency cap (skipped or deferred,
        as the request says). Fills ``results`` and ``due``."""
        if remaining:
            for cid, why in (await repo.on_dnc(remaining)).items():
                results[cid] = QueuedEmail("skipped", f"On Do Not Contact for email ({why}).")
            remaining = [c for c in remaining if c not in results]
        if remaining:
            for cid in await repo.opted_out_of_category(email_id, remaining):
                results[cid] = QueuedEmail(
                    "skipped", "Opted out of this email's category in the preference centre."
                )
            remaining = [c for c in remaining if c not in results]
        if remaining and not request.allow_repeat:
            for cid in await repo.already_received(email_id, remaining):
                results[cid] = QueuedEmail("skipped", "Already received this email.")
            remaining = [c for c in remaining if c not in results]
        if remaining:
            over = await self.over_cap(session, remaining, now, statuses=LIVE)
            for cid, (free_at, limit, days) in over.items():
                cap = f"{limit} marketing email{'s' if limit != 1 else ''} per {days} days"
                if request.over_cap == "skip":
                    results[cid] = QueuedEmail("skipped", f"Frequency cap reached ({cap}).")
                else:
                    due[cid] = free_at
                    results[cid] = QueuedEmail(
                        "deferred",
                        f"Deferred by the frequency cap ({cap}) until "
                        f"{free_at.isoformat(timespec='minutes')}.",
                    )

    async def notify(
        self,
        session: AsyncSession,
        *,
        email_id: int,
        contact_ids: Sequence[int],
        to_owner: bool,
        user_ids: Sequence[int],
        addresses: Sequence[str],
        now: datetime,
        campaign_id: int | None = None,
        event_id: int | None = None,
    ) -> dict[int, QueuedEmail]:
        """An email about each contact to its owner, chosen users and addresses."""
        repo = EmailRepository(session)
        email = await repo.get(email_id)
        if email is None or not email.is_published:
            reason = f"The email {email_id} does not exist or is not published."
            return dict.fromkeys(contact_ids, QueuedEmail("skipped", reason))
        owners = await repo.owners_of(contact_ids) if to_owner else {}
        users = await repo.users(sorted({*user_ids, *owners.values()}))
        fixed = [users[u]["email"] for u in user_ids if u in users] + list(addresses)
        domain = domain_of(self.sender(email)[0])
        rows: list[dict[str, Any]] = []
        results: dict[int, QueuedEmail] = {}
        for cid in contact_ids:
            to = list(fixed)
            owner = users.get(owners.get(cid, 0))
            if owner is not None:
                to.insert(0, owner["email"])
            to = list(dict.fromkeys(a.lower() for a in to if a))
            if not to:
                results[cid] = QueuedEmail("skipped", "Nobody to notify: the contact has no owner.")
                continue
            results[cid] = QueuedEmail("queued")
            rows.extend(
                {
                    "email_id": email.id,
                    "email_version": email.content_version,
                    "contact_id": cid,
                    "recipient": "user",
                    "to_address": address,
                    "kind": "transactional",
                    "source": "notify",
                    "campaign_id": campaign_id,
                    "event_id": event_id,
                    "rotation": None,
                    "broadcast_id": None,
                    "status": "queued",
                    "reason": None,
                    "cap_action": None,
                    "message_id": new_message_id(domain),
                    "attempts": 0,
                    "due_at": now,
                    "created_at": now,
                    "sent_at": None,
                }
                for address in to
            )
        if rows:
            await repo.insert_sends(rows)
            self._wake()
        return results

    @staticmethod
    def _wake() -> None:
        """Deliver right after the commit; the background service catches anything missed."""
        try:
            enqueue_job(DELIVER_JOB, dedupe_key=DELIVER_JOB)
        except NoUnitOfWork:
            log.debug("email queued outside a unit of work; the delivery service will send it")

    # -- sends, the outbox, frequency ---------------------------------------------------------

    async def sends_page(
        self,
        session: AsyncSession,
        *,
        actor: Actor,
        page: PageRequest,
        email_id: int | None = None,
        contact_id: int | None = None,
        status: str | None = None,
    ) -> Page[EmailSend]:
        if email_id is not None:
            await self.get(session, email_id, actor=actor)
        else:
            EMAILS.require_view_any(actor)
        if contact_id is not None:
            await contact_service.require_visible(session, contact_id, actor=actor)
        return await EmailRepository(session).sends_page(
            page=page,
            email_id=email_id,
            contact_id=contact_id,
            status=status,
            emails=EMAILS.visible(actor),
            contacts=visible_contacts(actor),
        )

    async def outbox_page(
        self, session: AsyncSession, *, actor: Actor, page: PageRequest, q: str | None
    ) -> Page[OutboxMessage]:
        actor.require("emails", Perm.VIEW_OTHERS)
        return await EmailRepository(session).outbox_page(page=page, q=q)

    async def outbox_message(
        self, session: AsyncSession, message_id: int, *, actor: Actor
    ) -> OutboxMessage:
        actor.require("emails", Perm.VIEW_OTHERS)
        found = await EmailRepository(session).outbox_message(message_id)
        if found is None:
            raise NotFound(f"No outbox message with id {message_id}.")
        return found

    async def frequency(
        self, session: AsyncSession, contact_id: int, *, actor: Actor
    ) -> FrequencyRead:
        await contact_service.require_visible(session, contact_id, actor=actor)
        repo = EmailRepository(session)
        own = await repo.contact_settings(contact_id)
        limit = own.frequency_limit if own else None
        days = own.frequency_days if own else None
        return FrequencyRead(
            contact_id=contact_id,
            frequency_limit=limit,
            frequency_days=days,
            effective_limit=limit if limit is not None else self.policy.frequency_limit,
            effective_days=days if days is not None else self.policy.frequency_days,
        )

    async def set_frequency(
        self,
        session: AsyncSession,
        contact_id: int,
        *,
        data: FrequencyUpdate,
        actor: Actor,
        now: datetime,
    ) -> FrequencyRead:
        await contact_service.require_editable(session, contact_id, actor=actor)
        repo = EmailRepository(session)
        own = await repo.contact_settings(contact_id)
        before = {
            "frequency_limit": own.frequency_limit if own else None,
            "frequency_days": own.frequency_days if own else None,
        }
        if own is None:
            own = ContactEmailSettings(contact_id=contact_id, updated_at=now)
            repo.add_contact_settings(own)
        own.frequency_limit = data.frequency_limit
        own.frequency_days = data.frequency_days
        own.updated_at = now
        await session.flush()
        changes = diff(before, data.model_dump())
        if changes:
            await audit.record(
                session,
                actor=actor,
                action=AuditAction.UPDATE,
                entity_type="contact",
                entity_id=contact_id,
                entity_name=f"Contact {contact_id}",
                changes=changes,
                now=now,
            )
        return await self.frequency(session, contact_id, actor=actor)


email_service = EmailService()


PROJECTABLE = EMAILS.projectable("Emails")
