"""The campaign scheduler: the service loop of ``trellis serve`` and ``campaigns trigger``."""

from __future__ import annotations

import logging
from typing import Any

from trellis.domains.campaigns.service import campaign_service
from trellis.jobs.registry import JobContext, job

log = logging.getLogger(__name__)


@job("campaigns.tick", max_retries=0)
async def tick(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Run what is due now: memberships, first steps, scheduled steps, expired decisions."""
    summary = await campaign_service.trigger(ctx.database, now=ctx.clock.now())
    if summary.executed or summary.joined or summary.exited:
        log.info("campaign tick", extra=summary.model_dump())
