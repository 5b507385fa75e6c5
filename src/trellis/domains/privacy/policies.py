"""The retention policies Trellis knows, with their documented defaults (docs/privacy.md).

An administrator overrides a default on the Settings > Data retention page; what is not
overridden follows the default of the running version."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

Unit = Literal["days", "months"]


@dataclass(frozen=True)
class PolicySpec:
    name: str
    label: str
    description: str
    enabled: bool
    period: int
    unit: Unit = "days"
    # The choices of what happens to what the policy finds, when there is a choice.
    modes: tuple[str, ...] = ()
    default_mode: str | None = None


ANONYMOUS_VISITORS = "anonymous_visitors"
TRACKING_EVENTS = "tracking_events"
JOURNEYS = "journeys"
OUTBOX = "outbox"
FORM_IPS = "form_ips"
AUDIT_LOG = "audit_log"
IMPORT_FILES = "import_files"
INACTIVE_CONTACTS = "inactive_contacts"

POLICIES: tuple[PolicySpec, ...] = (
    PolicySpec(
        ANONYMOUS_VISITORS,
        "Anonymous visitors",
        "Website visitors never identified (no email, no identifying field), with their page "
        "hits, once inactive for the period.",
        enabled=True,
        period=30,
    ),
    PolicySpec(
        TRACKING_EVENTS,
        "Page hits, email opens and clicks, tracking events",
        "Single page hits, open and click hits and track-API events older than the period. "
        "Per-email counters and per-send open and click totals are kept.",
        enabled=True,
        period=395,
    ),
    PolicySpec(
        JOURNEYS,
        "Campaign journal of finished journeys",
        "The step-by-step journal of journeys that ended (no step waiting) longer ago than the "
        "period. Per-step statistics and campaign memberships are kept.",
        enabled=True,
        period=365,
    ),
    PolicySpec(
        OUTBOX,
        "Outbox messages",
        "Messages the outbox transport kept instead of delivering, older than the period.",
        enabled=True,
        period=30,
    ),
    PolicySpec(
        FORM_IPS,
        "Network addresses of form submissions and downloads",
        "Form submissions, asset downloads and consent records keep their (truncated) network "
        "address for the period, to spot abuse; then it is removed.",
        enabled=True,
        period=30,
    ),
    PolicySpec(
        AUDIT_LOG,
        "Audit log",
        "Audit entries older than the period. Off by default: the audit log is kept.",
        enabled=False,
        period=730,
    ),
    PolicySpec(
        IMPORT_FILES,
        "Import files",
        "Uploaded CSV files of finished imports and their error reports; the import's record "
        "(counts, first errors) stays.",
        enabled=True,
        period=30,
    ),
    PolicySpec(
        INACTIVE_CONTACTS,
        "Inactive contacts",
        "Identified contacts with no activity for the period: deleted, or anonymised (personal "
        "data removed, the row kept for statistics). Off by default.",
        enabled=False,
        period=36,
        unit="months",
        modes=("delete", "anonymise"),
        default_mode="anonymise",
    ),
)

BY_NAME = {p.name: p for p in POLICIES}


def cutoff(now: datetime, period: int, unit: Unit) -> datetime:
    """``period`` days or calendar months before ``now``."""
    if unit == "days":
        return now - timedelta(days=period)
    months = now.year * 12 + now.month - 1 - period
    year, month = divmod(months, 12)
    day = min(now.day, calendar.monthrange(year, month + 1)[1])
    return now.replace(year=year, month=month + 1, day=day)
