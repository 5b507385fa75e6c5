"""Delivery: the job that runs right after a send is queued, and the background pass that
picks up retries, deferrals and anything a lost job left behind."""

from __future__ import annotations

import logging
from typing import Any

from trellis.domains.emails.delivery import email_delivery
from trellis.domains.emails.service import DELIVER_JOB
from trellis.jobs.registry import JobContext, job

log = logging.getLogger(__name__)

DELIVERY_INTERVAL_S = 1.0


@job(DELIVER_JOB, max_retries=0)
async def deliver(ctx: JobContext, payload: dict[str, Any]) -> None:
    summary = await email_delivery.deliver_due(ctx.database, now=ctx.clock.now())
    if summary.sent or summary.failed or summary.retried:
        log.info("email delivery", extra=summary.model_dump())
