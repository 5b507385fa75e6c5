"""What the website tracking API shows: page hits, of a contact or of the whole site."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class PageHitRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    visitor_id: str
    contact_id: int | None
    site: str
    url: str
    title: str
    referrer: str
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_term: str | None
    utm_content: str | None
    device: str
    created_at: datetime
