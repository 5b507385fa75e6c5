"""Is there anything for ``campaigns trigger`` to do? One cheap query, asked before the
application is built.

Cron runs the trigger every few minutes and it mostly finds nothing; building the application
(SQLAlchemy, the models, every event type and service) costs seconds of CPU on a small
machine, the question a few milliseconds. The answer errs on the side of "yes": when it says
no, the full trigger would have found nothing either:

- no step due: no scheduled, waiting (decision) or running (lease) row of a running campaign
  has a due time at or before ``now``;
- no membership to apply: no segment source of a running campaign is new, half taken in, or
  behind its segment's log of joins and leaves;
- no email queued for delivery whose time came.

It is raw SQL because the point is to avoid importing the models (ADR 0019); the tests of
``campaigns trigger`` cover each kind of due work through the command, so a condition missing
here fails them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from trellis.db.quick import fetch_one

# Statuses of open steps (see trellis.runtime.journal.Status): scheduled, waiting, running.
_OPEN_STEPS = "1, 2, 3"

_RUNNING_CAMPAIGN = (
    "c.is_published"
    " AND (c.publish_up IS NULL OR c.publish_up <= :now)"
    " AND (c.publish_down IS NULL OR c.publish_down > :now)"
)


@dataclass(frozen=True)
class PendingWork:
    campaigns: int
    due: bool


def pending_work(url: str, *, now: datetime, campaign_ids: Sequence[int] = ()) -> PendingWork:
    """How many campaigns run at ``now`` and whether any work is due for them."""
    parameters: dict[str, object] = {"now": now}
    only = ""
    if campaign_ids:
        names = [f"campaign_{i}" for i in range(len(campaign_ids))]
        parameters.update(zip(names, campaign_ids, strict=True))
        only = " AND c.id IN (" + ", ".join(f":{name}" for name in names) + ")"
    running = _RUNNING_CAMPAIGN + only
    # Only constants and generated parameter names are interpolated; values are bound.
    sql = (
        f"SELECT (SELECT COUNT(*) FROM campaigns c WHERE {running}),"  # noqa: S608
        " CASE WHEN EXISTS ("
        "   SELECT 1 FROM campaign_event_log l JOIN campaigns c ON c.id = l.campaign_id"
        f"  WHERE l.status IN ({_OPEN_STEPS}) AND l.due_at <= :now AND {running}"
        " ) OR EXISTS ("
        "   SELECT 1 FROM campaign_sources s JOIN campaigns c ON c.id = s.campaign_id"
        f"  WHERE s.kind = 'segment' AND {running} AND ("
        '     s.backfill_after IS NOT NULL OR s."cursor" = 0 OR EXISTS ('
        "       SELECT 1 FROM segment_membership_log m"
        '       WHERE m.segment_id = s.source_id AND m.id > s."cursor"))'
        " ) OR EXISTS ("
        "   SELECT 1 FROM email_sends e"
        "   WHERE e.status IN ('queued', 'sending') AND e.due_at <= :now"
        " ) THEN 1 ELSE 0 END"
    )
    row = fetch_one(url, sql, parameters)
    assert row is not None  # a SELECT of two expressions always has a row
    return PendingWork(campaigns=int(row[0]), due=bool(row[1]))
