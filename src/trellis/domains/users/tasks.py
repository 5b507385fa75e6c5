from __future__ import annotations

from typing import Any

from trellis.domains.users.sign_in import auth_service
from trellis.jobs.registry import JobContext, job


@job("users.purge_expired_sessions", max_retries=0)
async def purge_expired_sessions(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Delete expired browser sessions and day-old failed sign-in records."""
    async with ctx.database.unit_of_work() as session:
        await auth_service.purge_expired(session, now=ctx.clock.now())
