"""The campaign scheduler: the service loop of ``trellis serve`` and ``campaigns trigger``."""

from __future__ import annotations

import logging
from typing import Any

from trellis.domains.campaigns.dispatch import (
    INTAKE_JOB,
    RUN_CAMPAIGN_JOB,
    STEPS_JOB,
    campaign_dispatch,
)
from trellis.jobs.registry import JobContext, job

log = logging.getLogger(__name__)


@job("campaigns.tick", max_retries=0)
async def tick(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Run what is due now: memberships, first steps, scheduled steps, expired decisions; with
    a distributed job backend, hand each running campaign to the workers instead."""
    backend = ctx.database.jobs
    if backend is not None and backend.distributed:
        await campaign_dispatch.dispatch(ctx.database, now=ctx.clock.now())
        return
    summary = await campaign_dispatch.trigger(ctx.database, now=ctx.clock.now())
    if summary.executed or summary.joined or summary.exited:
        log.info("campaign tick", extra=summary.model_dump())


# Below RabbitMQ's default consumer_timeout (30 minutes), which would take the message back and
# close the worker's channel. Stopping mid-way loses nothing: steps are claimed in batches
# with leases, and the scheduler hands the campaign out again on its next tick (each second).
RUN_CAMPAIGN_TIME_LIMIT_S = 20 * 60


@job(RUN_CAMPAIGN_JOB, max_retries=0, time_limit_s=RUN_CAMPAIGN_TIME_LIMIT_S)
async def run_campaign(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Everything due in one campaign (enqueued by the distributed scheduler)."""
    summary = await campaign_dispatch.trigger(
        ctx.database, now=ctx.clock.now(), campaign_ids=[int(payload["campaign_id"])]
    )
    if summary.executed or summary.joined or summary.exited:
        log.info("campaign run", extra=summary.model_dump())


@job(INTAKE_JOB, max_retries=0)
async def take_intake(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Take a share of a campaign's first intake: claim its free ranges until none is left
    (rung by the campaign's dispatcher, once per range it cut)."""
    joined = await campaign_dispatch.take_intake_ranges(
        ctx.database, int(payload["campaign_id"]), now=ctx.clock.now()
    )
    if joined:
        log.info("campaign intake", extra={"campaign_id": payload["campaign_id"], "joined": joined})


@job(STEPS_JOB, max_retries=0)
async def help_with_steps(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Take a share of a campaign's due steps: claimed batches, disjoint from the others'."""
    await campaign_dispatch.help_with_steps(
        ctx.database, int(payload["campaign_id"]), now=ctx.clock.now()
    )
