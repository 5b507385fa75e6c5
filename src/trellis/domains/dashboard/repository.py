"""The dashboard's figures: one aggregate query per figure, each limited to what the actor may
see (ADR 0015)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, func, literal, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from trellis.actor import Actor
from trellis.db.days import utc_day
from trellis.db.models import (
    Campaign,
    CampaignMember,
    Contact,
    Email,
    EmailSend,
    EmailSendTracking,
    EventLog,
    Form,
    FormSubmission,
    Segment,
)
from trellis.kit.visibility import owned_rows

# The open statuses of a step (scheduled, waiting, running) and the one of a step out of attempts.
OPEN_STEP = (1, 2, 3)
DEAD_STEP = 6
TOP_CAMPAIGNS = 10


def _clause(clause: ColumnElement[bool] | None) -> ColumnElement[bool]:
    return true() if clause is None else clause


def _by_day(rows: Any) -> dict[date, int]:
    return {date.fromisoformat(day): int(count) for day, count in rows if day is not None}


class DashboardRepository:
    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.campaigns = _clause(owned_rows(actor, "campaigns", Campaign.created_by_id))
        self.emails = _clause(owned_rows(actor, "emails", Email.created_by_id))
        self.forms = _clause(owned_rows(actor, "forms", Form.created_by_id))
        self.segments = _clause(owned_rows(actor, "segments", Segment.created_by_id))
        contacts = owned_rows(actor, "contacts", Contact.owner_id)
        self.contacts = _clause(contacts)
        # Rows that refer to a contact count only when the actor may see that contact.
        self._contact_ids = None if contacts is None else select(Contact.id).where(contacts)

    def _visible_contact(self, column: Any) -> ColumnElement[bool]:
        if self._contact_ids is None:
            return true()
        visible: ColumnElement[bool] = column.in_(self._contact_ids)
        return visible

    async def active_campaigns(self) -> int:
        query = (
            select(func.count()).select_from(Campaign).where(Campaign.is_published, self.campaigns)
        )
        return int(await self.session.scalar(query) or 0)

    async def campaign_activity(self, start: datetime) -> list[dict[str, Any]]:
        member = CampaignMember
        open_step = exists().where(
            EventLog.contact_id == member.contact_id,
            EventLog.campaign_id == member.campaign_id,
            EventLog.rotation == member.rotation,
            EventLog.status.in_(OPEN_STEP),
        )
        any_step = exists().where(
            EventLog.contact_id == member.contact_id,
            EventLog.campaign_id == member.campaign_id,
            EventLog.rotation == member.rotation,
        )
        joined = member.joined_at >= start
        entries = func.count(case((joined, literal(1))))
        completed = func.count(case((and_(joined, any_step, ~open_step), literal(1))))
        exits = func.count(case((member.left_at >= start, literal(1))))
        query = (
            select(Campaign.id, Campaign.name, entries, completed, exits)
            .join(
                member,
                and_(
                    member.campaign_id == Campaign.id,
                    (member.joined_at >= start) | (member.left_at >= start),
                    self._visible_contact(member.contact_id),
                ),
                isouter=True,
            )
            .where(Campaign.is_published, self.campaigns)
            .group_by(Campaign.id, Campaign.name)
            .order_by(entries.desc(), Campaign.name)
            .limit(TOP_CAMPAIGNS)
        )
        rows = await self.session.execute(query)
        return [
            {"id": i, "name": n, "entries": e, "completed": c, "exits": x} for i, n, e, c, x in rows
        ]

    def _sends(self, start: datetime) -> Any:
        return (
            select(EmailSend.id)
            .join(Email, Email.id == EmailSend.email_id)
            .where(
                EmailSend.status == "sent",
                EmailSend.recipient == "contact",
                EmailSend.sent_at >= start,
                self.emails,
                self._visible_contact(EmailSend.contact_id),
            )
        )

    async def email_totals(self, start: datetime) -> tuple[int, int, int]:
        sends = self._sends(start).subquery()
        opened = EmailSendTracking.first_opened_at.is_not(None)
        clicked = EmailSendTracking.first_clicked_at.is_not(None)
        query = (
            select(
                func.count(),
                func.count(case((opened, literal(1)))),
                func.count(case((clicked, literal(1)))),
            )
            .select_from(sends)
            .join(EmailSendTracking, EmailSendTracking.send_id == sends.c.id, isouter=True)
        )
        sent, opens, clicks = (await self.session.execute(query)).one()
        return int(sent), int(opens), int(clicks)

    async def email_daily(self, start: datetime) -> dict[str, dict[date, int]]:
        visible = self._sends(start).with_only_columns(EmailSend.id)
        sent_day = utc_day(EmailSend.sent_at)
        sent = await self.session.execute(
            select(sent_day, func.count()).where(EmailSend.id.in_(visible)).group_by(sent_day)
        )
        result = {"sent": _by_day(sent)}
        for name, column in (
            ("opened", EmailSendTracking.first_opened_at),
            ("clicked", EmailSendTracking.first_clicked_at),
        ):
            day = utc_day(column)
            rows = await self.session.execute(
                select(day, func.count())
                .where(EmailSendTracking.send_id.in_(visible), column >= start)
                .group_by(day)
            )
            result[name] = _by_day(rows)
        return result

    async def new_contacts(self, start: datetime) -> dict[date, int]:
        day = utc_day(Contact.created_at)
        rows = await self.session.execute(
            select(day, func.count())
            .where(Contact.created_at >= start, self.contacts)
            .group_by(day)
        )
        return _by_day(rows)

    async def form_submissions(self, start: datetime) -> dict[date, int]:
        day = utc_day(FormSubmission.created_at)
        rows = await self.session.execute(
            select(day, func.count())
            .join(Form, Form.id == FormSubmission.form_id)
            .where(FormSubmission.created_at >= start, self.forms)
            .group_by(day)
        )
        return _by_day(rows)

    async def failures(self) -> list[dict[str, Any]]:
        dead = EventLog.status == DEAD_STEP
        retrying = EventLog.status.in_((1, 3)) & (EventLog.attempts > 0)
        dead_count = func.count(case((dead, literal(1))))
        retrying_count = func.count(case((retrying, literal(1))))
        query = (
            select(Campaign.id, Campaign.name, dead_count, retrying_count)
            .join(EventLog, EventLog.campaign_id == Campaign.id)
            .where(dead | retrying, self.campaigns, self._visible_contact(EventLog.contact_id))
            .group_by(Campaign.id, Campaign.name)
            .order_by((dead_count + retrying_count).desc(), Campaign.name)
        )
        rows = await self.session.execute(query)
        return [
            {"campaign_id": i, "campaign_name": n, "dead": d, "retrying": r} for i, n, d, r in rows
        ]

    async def checklist(self) -> dict[str, bool]:
        def any_of(model: Any, clause: ColumnElement[bool]) -> Any:
            return exists(select(model.id).where(clause)).label(None)

        query = select(
            any_of(Contact, self.contacts),
            any_of(Segment, self.segments),
            any_of(Email, self.emails),
            any_of(Campaign, self.campaigns),
            any_of(Campaign, and_(Campaign.is_published, self.campaigns)),
        )
        contacts, segment, email, campaign, published = (await self.session.execute(query)).one()
        return {
            "contacts": bool(contacts),
            "segment": bool(segment),
            "email": bool(email),
            "campaign": bool(campaign),
            "published": bool(published),
        }


def days_between(start: datetime, days: int) -> list[date]:
    first = start.date()
    return [first + timedelta(days=i) for i in range(days + 1)]
