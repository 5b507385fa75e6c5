from __future__ import annotations

from fastapi import APIRouter

from trellis.api.deps import ActorDep, NowDep, SessionDep
from trellis.api.routing import API_PREFIX
from trellis.domains.dashboard.schemas import Dashboard
from trellis.domains.dashboard.service import dashboard_service

router = APIRouter(prefix=API_PREFIX, tags=["dashboard"])


@router.get("/dashboard", response_model=Dashboard)
async def get_dashboard(actor: ActorDep, session: SessionDep, now: NowDep) -> Dashboard:
    """The last 30 days at a glance, counted over what the signed-in user may see."""
    # Every signed-in user has a dashboard; each figure is limited by the visibility rule.
    return await dashboard_service.dashboard(session, actor=actor, now=now)
