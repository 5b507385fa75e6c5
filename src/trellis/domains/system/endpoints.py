from __future__ import annotations

from fastapi import APIRouter

from trellis import __version__
from trellis.actor import Perm
from trellis.api.deps import ActorDep, NowDep, SessionDep, SettingsDep
from trellis.api.routing import API_PREFIX
from trellis.domains.system.schemas import (
    InstanceSettingsUpdate,
    InstanceSettingsView,
    SystemInfo,
)
from trellis.domains.system.service import system_service

router = APIRouter(prefix=API_PREFIX, tags=["settings"])


@router.get("/settings", response_model=InstanceSettingsView)
async def get_settings(
    actor: ActorDep, session: SessionDep, settings: SettingsDep
) -> InstanceSettingsView:
    # Every signed-in user needs the instance name and defaults; editing is for administrators.
    stored = await system_service.settings(session)
    return InstanceSettingsView(**stored.model_dump(), base_url=settings.base_url)


@router.patch("/settings", response_model=InstanceSettingsView)
async def update_settings(
    body: InstanceSettingsUpdate,
    actor: ActorDep,
    session: SessionDep,
    now: NowDep,
    settings: SettingsDep,
) -> InstanceSettingsView:
    stored = await system_service.update_settings(session, data=body, actor=actor, now=now)
    return InstanceSettingsView(**stored.model_dump(), base_url=settings.base_url)


@router.get("/system", response_model=SystemInfo)
async def system_info(actor: ActorDep, settings: SettingsDep) -> SystemInfo:
    actor.require("settings", Perm.VIEW_OTHERS)
    return SystemInfo(
        version=__version__,
        database=settings.database_url.split(":", 1)[0].split("+", 1)[0],
        data_dir=str(settings.data_dir),
        jobs_backend=settings.jobs.backend,
        services_enabled=settings.services.enabled,
    )
