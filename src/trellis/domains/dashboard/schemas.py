from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel


class DayCount(BaseModel):
    day: date
    count: int


class EmailDay(BaseModel):
    day: date
    sent: int
    opened: int
    clicked: int


class CampaignActivity(BaseModel):
    id: int
    name: str
    # Contacts that joined in the period, and of them those whose every step has finished.
    entries: int
    completed: int
    # Contacts that left in the period (their source, a campaign action or a person).
    exits: int


class EmailTotals(BaseModel):
    # Sends made in the period, and of those how many were opened and clicked at least once.
    sent: int
    opened: int
    clicked: int
    daily: list[EmailDay]


class Failure(BaseModel):
    campaign_id: int
    campaign_name: str
    # Steps out of attempts, and steps that failed and wait for another attempt.
    dead: int
    retrying: int


class Checklist(BaseModel):
    contacts: bool
    segment: bool
    email: bool
    campaign: bool
    published: bool


class Dashboard(BaseModel):
    start: datetime
    end: datetime
    days: int
    active_campaigns: int
    campaigns: list[CampaignActivity]
    emails: EmailTotals
    new_contacts: int
    new_contacts_daily: list[DayCount]
    form_submissions: int
    form_submissions_daily: list[DayCount]
    failures: list[Failure]
    checklist: Checklist
