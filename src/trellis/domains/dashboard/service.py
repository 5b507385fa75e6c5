"""What matters at a glance: the last days' activity over everything the actor may see."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from trellis.actor import Actor
from trellis.domains.dashboard.repository import DashboardRepository, days_between
from trellis.domains.dashboard.schemas import (
    CampaignActivity,
    Checklist,
    Dashboard,
    DayCount,
    EmailDay,
    EmailTotals,
    Failure,
)

PERIOD_DAYS = 30


class DashboardService:
    async def dashboard(self, session: AsyncSession, *, actor: Actor, now: datetime) -> Dashboard:
        start = now - timedelta(days=PERIOD_DAYS)
        repo = DashboardRepository(session, actor)
        days = days_between(start, PERIOD_DAYS)
        sent, opened, clicked = await repo.email_totals(start)
        daily = await repo.email_daily(start)
        contacts = await repo.new_contacts(start)
        submissions = await repo.form_submissions(start)
        return Dashboard(
            start=start,
            end=now,
            days=PERIOD_DAYS,
            active_campaigns=await repo.active_campaigns(),
            campaigns=[CampaignActivity(**row) for row in await repo.campaign_activity(start)],
            emails=EmailTotals(
                sent=sent,
                opened=opened,
                clicked=clicked,
                daily=[
                    EmailDay(
                        day=d,
                        sent=daily["sent"].get(d, 0),
                        opened=daily["opened"].get(d, 0),
                        clicked=daily["clicked"].get(d, 0),
                    )
                    for d in days
                ],
            ),
            new_contacts=sum(contacts.values()),
            new_contacts_daily=[DayCount(day=d, count=contacts.get(d, 0)) for d in days],
            form_submissions=sum(submissions.values()),
            form_submissions_daily=[DayCount(day=d, count=submissions.get(d, 0)) for d in days],
            failures=[Failure(**row) for row in await repo.failures()],
            checklist=Checklist(**await repo.checklist()),
        )


dashboard_service = DashboardService()
