"""The application factory: the API, the UI and, in the embedded mode, the workers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp

from trellis import __version__, bootstrap
from trellis.api.batching import TrackBatcher
from trellis.api.deps import SessionDep
from trellis.api.middleware import (
    BodyLimitMiddleware,
    ForwardedClientMiddleware,
    JsonDepthMiddleware,
    SecurityHeadersMiddleware,
)
from trellis.api.problems import install_problem_handlers, problem_response
from trellis.api.ratelimit import Limit, RateLimiter, build_limiter
from trellis.api.routing import API_PREFIX
from trellis.api.ui import install_ui
from trellis.clock import Clock
from trellis.db.session import Database
from trellis.domains.assets.endpoints import router as assets_router
from trellis.domains.assets.public import public_router as assets_public_router
from trellis.domains.audit.endpoints import router as audit_router
from trellis.domains.broadcasts.endpoints import router as broadcasts_router
from trellis.domains.campaigns.endpoints import router as campaigns_router
from trellis.domains.campaigns.endpoints import track_router
from trellis.domains.companies.endpoints import router as companies_router
from trellis.domains.contacts.endpoints import router as contacts_router
from trellis.domains.dashboard.endpoints import router as dashboard_router
from trellis.domains.emails.endpoints import router as emails_router
from trellis.domains.fields.endpoints import router as fields_router
from trellis.domains.forms.batching import SubmissionBatcher
from trellis.domains.forms.endpoints import router as forms_router
from trellis.domains.forms.public import public_router as forms_public_router
from trellis.domains.imports.endpoints import router as imports_router
from trellis.domains.landing_pages.endpoints import router as pages_router
from trellis.domains.landing_pages.public import public_router as pages_public_router
from trellis.domains.notifications.endpoints import router as notifications_router
from trellis.domains.portability.endpoints import router as portability_router
from trellis.domains.privacy.endpoints import router as privacy_router
from trellis.domains.projects.endpoints import router as projects_router
from trellis.domains.segments.endpoints import router as segments_router
from trellis.domains.site_tracking import ingest as site_tracking_ingest
from trellis.domains.site_tracking.endpoints import router as web_router
from trellis.domains.site_tracking.public import public_router as web_public_router
from trellis.domains.stages.endpoints import router as stages_router
from trellis.domains.system.endpoints import router as system_router
from trellis.domains.system.schemas import Health
from trellis.domains.system.service import system_service
from trellis.domains.tracking import ingest as tracking_ingest
from trellis.domains.tracking.endpoints import public_router as tracking_public_router
from trellis.domains.tracking.endpoints import router as tracking_router
from trellis.domains.users.endpoints import router as users_router
from trellis.domains.users.usage import UsageQueue
from trellis.runtime.services import ServiceRunner
from trellis.settings import Settings, get_settings

log = logging.getLogger(__name__)


# In matching order: the track API takes the bulk of the API traffic.
API_ROUTERS: tuple[APIRouter, ...] = (
    track_router,
    users_router,
    projects_router,
    audit_router,
    system_router,
    dashboard_router,
    fields_router,
    contacts_router,
    companies_router,
    stages_router,
    segments_router,
    imports_router,
    portability_router,
    campaigns_router,
    notifications_router,
    emails_router,
    broadcasts_router,
    tracking_router,
    forms_router,
    pages_router,
    assets_router,
    web_router,
    privacy_router,
)


class TrellisApp(FastAPI):
    """FastAPI with the security headers around the whole stack.

    Middleware added with ``add_middleware`` runs inside Starlette's error middleware, which
    writes the 500 answer to an unhandled error: such an answer would go out without them.
    """

    hsts_max_age_s: int = 0
    hsts_include_subdomains: bool = False

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeadersMiddleware(
            super().build_middleware_stack(),
            hsts_max_age_s=self.hsts_max_age_s,
            hsts_include_subdomains=self.hsts_include_subdomains,
        )


def _rate_limiters(settings: Settings) -> dict[str, RateLimiter]:
    """The per-address limits of the public endpoints, by name."""
    shared = settings.rate_limit_redis()
    return {
        name: build_limiter(Limit(name, group.rate_per_ip, group.burst_per_ip), shared)
        for name, group in (
            ("web", settings.web),
            ("tracking", settings.tracking),
            ("forms", settings.forms),
            ("assets", settings.assets),
        )
    }


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    clock: Clock | None = None,
    run_services: bool | None = None,
) -> FastAPI:
    settings = settings or get_settings()
    application = bootstrap.build(settings, database=database, clock=clock)
    database, clock, backend = application.database, application.clock, application.jobs
    services_on = settings.services.enabled if run_services is None else run_services
    runner = ServiceRunner(application.background_services() if services_on else [])
    track_batcher = TrackBatcher(database, clock)
    credential_uses = UsageQueue(database)
    form_batcher = SubmissionBatcher(database, clock)
    tracking = settings.tracking
    limits = _rate_limiters(settings)
    interval_s = tracking.flush_interval_ms / 1000
    tracking_hits = tracking_ingest.hit_queue(
        database,
        clock,
        interval_s=interval_s,
        batch_size=tracking.flush_size,
        max_buffered=tracking.max_buffered,
    )
    web_hits = site_tracking_ingest.hit_queue(
        database,
        clock,
        interval_s=interval_s,
        batch_size=tracking.flush_size,
        max_buffered=tracking.max_buffered,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await backend.start()
        await runner.start()
        try:
            yield
        finally:
            await runner.stop()
            await credential_uses.stop()
            await track_batcher.stop()
            await form_batcher.stop()
            await tracking_hits.stop()
            await web_hits.stop()
            await backend.stop()
            for limiter in limits.values():
                await limiter.aclose()
            await application.aclose()

    app = TrellisApp(
        title="Trellis API",
        version=__version__,
        summary="Marketing-automation campaigns: contacts, segments, campaigns and channels.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.hsts_max_age_s = settings.api.hsts_max_age_s
    app.hsts_include_subdomains = settings.api.hsts_include_subdomains
    app.state.application = application
    app.state.settings = settings
    app.state.database = database
    app.state.clock = clock
    app.state.jobs = backend
    app.state.track_batcher = track_batcher
    app.state.credential_uses = credential_uses
    app.state.form_batcher = form_batcher
    app.state.tracking_hits = tracking_hits
    app.state.web_hits = web_hits
    for name, limit in limits.items():
        setattr(app.state, f"{name}_limiter", limit)

    install_problem_handlers(app)
    uploads = {
        f"{API_PREFIX}/imports": settings.api.max_upload_bytes,
        f"{API_PREFIX}/campaigns/import": settings.api.max_upload_bytes,
        # Room for the multipart envelope; the file itself is held to max_bytes.
        f"{API_PREFIX}/assets": settings.assets.max_bytes + 64 * 1024,
    }
    # Added first, so it runs inside the body limit: the JSON it holds is already bounded.
    app.add_middleware(JsonDepthMiddleware, skip=tuple(uploads))
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.api.max_body_bytes, uploads=uploads)
    # Outermost: everything inside sees the client's address, not the proxy's.
    app.add_middleware(ForwardedClientMiddleware, trusted=settings.api.trusted_proxies)

    @app.get("/healthz", response_model=Health, tags=["health"], summary="The process is up")
    async def healthz() -> Health:
        return Health(status="ok")

    @app.get(
        "/readyz",
        response_model=Health,
        tags=["health"],
        summary="The process can serve: the database answers",
        responses={503: {"description": "Not ready"}},
    )
    async def readyz(session: SessionDep) -> Any:
        try:
            await system_service.database_ready(session)
        except Exception as exc:
            log.warning("not ready", extra={"error": str(exc)})
            return problem_response(503, detail="The database does not answer.")
        return Health(status="ok", checks={"database": "ok"})

    for router in (
        tracking_public_router,
        web_public_router,
        forms_public_router,
        pages_public_router,
        assets_public_router,
        *API_ROUTERS,
    ):
        app.include_router(router)
    install_ui(app)
    return app
