"""The pass that advances broadcasts: started by the background service every few seconds
(and by ``trellis emails broadcasts run``)."""

from __future__ import annotations

import logging
from typing import Any

from trellis.domains.broadcasts.service import RUN_JOB, broadcast_service
from trellis.jobs.registry import JobContext, job

log = logging.getLogger(__name__)

RUN_INTERVAL_S = 5.0


@job(RUN_JOB, max_retries=0)
async def run(ctx: JobContext, payload: dict[str, Any]) -> None:
    summary = await broadcast_service.run_due(ctx.database, now=ctx.clock.now())
    if summary.started or summary.queued or summary.skipped or summary.finished:
        log.info("broadcasts", extra=summary.model_dump())
