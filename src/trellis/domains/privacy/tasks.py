from __future__ import annotations

from typing import Any

from trellis.domains.privacy.service import privacy_service
from trellis.jobs.registry import JobContext, job


@job("privacy.cleanup", max_retries=0)
async def cleanup(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Apply retention policies: the runs queued by ``run_ids`` (from the API), or else every
    enabled policy that has not run within ``every_s`` seconds (the schedule)."""
    now = ctx.clock.now()
    run_ids = payload.get("run_ids")
    if run_ids:
        await privacy_service.run_queued(ctx.database, [int(i) for i in run_ids], now=now)
        return
    await privacy_service.scheduled(ctx.database, now=now, every_s=float(payload.get("every_s", 0)))
