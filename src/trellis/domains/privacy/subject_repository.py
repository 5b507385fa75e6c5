"""Data-subject requests: everything held about contacts, read for an export or removed for an
erasure, across every table (the bulk tables without foreign keys included, ADR 0009)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, cast, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from trellis.db.dialect import ids_in
from trellis.db.models import (
    Asset,
    AssetDownload,
    AuditEntry,
    BroadcastRecipient,
    Campaign,
    CampaignEvent,
    CampaignMember,
    Company,
    Consent,
    Contact,
    ContactActivity,
    ContactCategoryOptOut,
    ContactCompany,
    ContactEmailSettings,
    ContactEvent,
    ContactImport,
    ContactTag,
    DoNotContact,
    Email,
    EmailSend,
    EmailSendTracking,
    EmailVersion,
    EventLog,
    Form,
    FormSubmission,
    OutboxMessage,
    PageHit,
    PointsChange,
    Segment,
    SegmentMember,
    SegmentMembershipChange,
    Tag,
    TrackingHit,
    WebVisitor,
)
from trellis.domains.privacy.repository import CleanupRepository

_SYNC = {"synchronize_session": False}

# Personal columns of a contact row, cleared when a contact is anonymised.
PERSONAL_COLUMNS = (
    "email",
    "first_name",
    "last_name",
    "phone",
    "mobile",
    "position",
    "company_name",
    "address1",
    "address2",
    "city",
    "state",
    "zipcode",
    "country",
    "timezone",
    "locale",
    "website",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


class SubjectRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def contact(self, contact_id: int) -> Contact | None:
        return await self.session.get(Contact, contact_id)

    async def contact_ids_by_email(self, email: str) -> list[int]:
        rows = await self.session.scalars(
            select(Contact.id).where(func.lower(Contact.email) == email.strip().lower())
        )
        return list(rows)

    # -- export -------------------------------------------------------------------------------

    async def _rows(self, stmt: Any) -> list[dict[str, Any]]:
        result = await self.session.execute(stmt)
        return [{k: _plain(v) for k, v in row.items()} for row in result.mappings()]

    async def export_sections(self, contact_id: int) -> dict[str, list[dict[str, Any]]]:
        """Every table's rows about the contact, by section name (see docs/privacy.md)."""
        c = contact_id
        send_subject = func.coalesce(EmailVersion.subject, Email.subject)
        queries: dict[str, Any] = {
            "contact": select(*Contact.__table__.c).where(Contact.id == c),
            "companies": select(Company.id, Company.name, Company.domain, ContactCompany.is_primary)
            .join(ContactCompany, ContactCompany.company_id == Company.id)
            .where(ContactCompany.contact_id == c),
            "tags": select(Tag.name)
            .join(ContactTag, ContactTag.tag_id == Tag.id)
            .where(ContactTag.contact_id == c),
            "points_history": select(*PointsChange.__table__.c).where(PointsChange.contact_id == c),
            "segment_memberships": select(
                Segment.id.label("segment_id"),
                Segment.name.label("segment"),
                *[col for col in SegmentMember.__table__.c if col.name not in ("contact_id",)],
            )
            .join(Segment, Segment.id == SegmentMember.segment_id)
            .where(SegmentMember.contact_id == c),
            "segment_history": select(*SegmentMembershipChange.__table__.c).where(
                SegmentMembershipChange.contact_id == c
            ),
            "campaign_memberships": select(
                Campaign.name.label("campaign"), *CampaignMember.__table__.c
            )
            .join(Campaign, Campaign.id == CampaignMember.campaign_id)
            .where(CampaignMember.contact_id == c),
            "journeys": select(
                CampaignEvent.name.label("step"),
                CampaignEvent.type.label("step_type"),
                *EventLog.__table__.c,
            )
            .join(CampaignEvent, CampaignEvent.id == EventLog.event_id)
            .where(EventLog.contact_id == c),
            "emails_sent": select(
                Email.name.label("email"),
                send_subject.label("subject"),
                *EmailSend.__table__.c,
            )
            .join(Email, Email.id == EmailSend.email_id)
            .outerjoin(
                EmailVersion,
                and_(
                    EmailVersion.email_id == EmailSend.email_id,
                    EmailVersion.version == EmailSend.email_version,
                ),
            )
            .where(EmailSend.contact_id == c),
            "email_opens_and_clicks": select(*EmailSendTracking.__table__.c).where(
                EmailSendTracking.contact_id == c
            ),
            "email_hits": select(*TrackingHit.__table__.c).where(TrackingHit.contact_id == c),
            "page_hits": select(*PageHit.__table__.c).where(PageHit.contact_id == c),
            "web_visitors": select(*WebVisitor.__table__.c).where(WebVisitor.contact_id == c),
            "form_submissions": select(Form.name.label("form"), *FormSubmission.__table__.c)
            .join(Form, Form.id == FormSubmission.form_id)
            .where(FormSubmission.contact_id == c),
            "asset_downloads": select(Asset.name.label("asset"), *AssetDownload.__table__.c)
            .join(Asset, Asset.id == AssetDownload.asset_id)
            .where(AssetDownload.contact_id == c),
            "consents": select(*Consent.__table__.c).where(Consent.contact_id == c),
            "do_not_contact": select(*DoNotContact.__table__.c).where(DoNotContact.contact_id == c),
            "email_preferences": select(*ContactEmailSettings.__table__.c).where(
                ContactEmailSettings.contact_id == c
            ),
            "category_opt_outs": select(*ContactCategoryOptOut.__table__.c).where(
                ContactCategoryOptOut.contact_id == c
            ),
            "broadcasts": select(*BroadcastRecipient.__table__.c).where(
                BroadcastRecipient.contact_id == c
            ),
            "tracked_events": select(*ContactEvent.__table__.c).where(ContactEvent.contact_id == c),
            "notes_and_activity": select(*ContactActivity.__table__.c).where(
                ContactActivity.contact_id == c
            ),
            "audit_entries": select(
                AuditEntry.id,
                AuditEntry.occurred_at,
                AuditEntry.actor_name,
                AuditEntry.action,
                AuditEntry.entity_name,
                AuditEntry.changes,
            ).where(AuditEntry.entity_type == "contact", AuditEntry.entity_id == c),
        }
        return {name: await self._rows(stmt) for name, stmt in queries.items()}

    # -- erasure ------------------------------------------------------------------------------

    async def erase(
        self, contact_ids: Sequence[int], emails: Sequence[str], *, keep_rows: bool, now: datetime
    ) -> None:
        """Remove every trace of these contacts; with ``keep_rows``, keep the contact rows,
        memberships and counters for statistics but clear every personal value."""
        ids = sorted(set(contact_ids))
        if not ids:
            return
        sends = select(EmailSend.id).where(ids_in(EmailSend.contact_id, ids))
        await self._execute(delete(OutboxMessage).where(OutboxMessage.send_id.in_(sends)))
        await self._forget_text(emails)
        await self._execute(delete(TrackingHit).where(ids_in(TrackingHit.contact_id, ids)))
        await self._execute(
            update(AuditEntry)
            .where(AuditEntry.entity_type == "contact", ids_in(AuditEntry.entity_id, ids))
            .values(entity_name="", changes={})
        )
        if not keep_rows:
            await CleanupRepository(self.session).delete_contacts(ids)
            return
        for model in (ContactActivity, ContactEvent, PageHit, WebVisitor):
            await self._execute(delete(model).where(ids_in(model.contact_id, ids)))
        await self._execute(
            update(FormSubmission)
            .where(ids_in(FormSubmission.contact_id, ids))
            .values(values={}, ip=None, user_agent="", page_url=None)
        )
        await self._execute(
            update(EmailSend).where(ids_in(EmailSend.contact_id, ids)).values(to_address="")
        )
        await self._execute(
            update(EmailSendTracking)
            .where(ids_in(EmailSendTracking.contact_id, ids))
            .values(bounce_reason=None)
        )
        for with_ip in (AssetDownload, Consent):
            await self._execute(
                update(with_ip).where(ids_in(with_ip.contact_id, ids)).values(ip=None)
            )
        await self._execute(
            update(DoNotContact).where(ids_in(DoNotContact.contact_id, ids)).values(comment="")
        )
        await self._execute(
            update(Contact)
            .where(ids_in(Contact.id, ids))
            .values(
                **dict.fromkeys(PERSONAL_COLUMNS),
                fields={},
                is_anonymous=True,
                anonymised_at=now,
                updated_at=now,
            )
        )

    async def _forget_text(self, emails: Sequence[str]) -> None:
        """Where an address sits in free text rather than a column keyed by the contact:
        outbox copies of messages and import error reports."""
        for email in sorted({e.strip().lower() for e in emails if e}):
            pattern = f"%{_escape_like(email)}%"
            await self._execute(
                delete(OutboxMessage).where(
                    or_(
                        func.lower(OutboxMessage.raw).like(pattern, escape="\\"),
                        func.lower(cast(OutboxMessage.recipients, String)).like(
                            pattern, escape="\\"
                        ),
                    )
                )
            )
            imports = await self.session.execute(
                select(ContactImport.id, ContactImport.errors).where(
                    func.lower(cast(ContactImport.errors, String)).like(pattern, escape="\\")
                )
            )
            for import_id, errors in imports.all():
                kept = [e for e in errors or [] if email not in json.dumps(e).lower()]
                await self._execute(
                    update(ContactImport).where(ContactImport.id == import_id).values(errors=kept)
                )

    async def _execute(self, statement: Any) -> None:
        await self.session.execute(statement, execution_options=_SYNC)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
