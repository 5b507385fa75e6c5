"""The application factory: the API, the UI and, in the embedded mode, the workers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI

from trellis import __version__
from trellis.api.batching import TrackBatcher
from trellis.api.deps import SessionDep
from trellis.api.middleware import BodyLimitMiddleware, SecurityHeadersMiddleware
from trellis.api.problems import install_problem_handlers, problem_response
from trellis.api.routing import API_PREFIX, include_flat, install_route_index
from trellis.api.ui import install_ui
from trellis.clock import Clock, SystemClock
from trellis.db.session import Database, create_engine
from trellis.domains.assets.endpoints import router as assets_router
from trellis.domains.assets.links import AssetLinks
from trellis.domains.assets.public import public_router as assets_public_router
from trellis.domains.assets.service import AssetPolicy, asset_service
from trellis.domains.assets.storage import AssetStore
from trellis.domains.audit.endpoints import router as audit_router
from trellis.domains.broadcasts import tasks as broadcast_tasks
from trellis.domains.broadcasts.endpoints import router as broadcasts_router
from trellis.domains.campaigns import tasks as campaign_tasks
from trellis.domains.campaigns.endpoints import router as campaigns_router
from trellis.domains.campaigns.endpoints import track_router
from trellis.domains.campaigns.service import EnginePolicy, campaign_service
from trellis.domains.companies.endpoints import router as companies_router
from trellis.domains.contacts.endpoints import router as contacts_router
from trellis.domains.emails import tasks as email_tasks
from trellis.domains.emails.endpoints import router as emails_router
from trellis.domains.emails.links import LinkSigner
from trellis.domains.emails.render import NoTracking
from trellis.domains.emails.service import MailPolicy, email_service
from trellis.domains.fields.endpoints import router as fields_router
from trellis.domains.forms.batching import SubmissionBatcher
from trellis.domains.forms.endpoints import router as forms_router
from trellis.domains.forms.public import public_router as forms_public_router
from trellis.domains.forms.service import form_service
from trellis.domains.imports.endpoints import router as imports_router
from trellis.domains.landing_pages.endpoints import router as pages_router
from trellis.domains.landing_pages.public import public_router as pages_public_router
from trellis.domains.landing_pages.service import page_service
from trellis.domains.notifications.endpoints import router as notifications_router
from trellis.domains.portability.endpoints import router as portability_router
from trellis.domains.projects.endpoints import router as projects_router
from trellis.domains.segments import tasks as segment_tasks
from trellis.domains.segments.endpoints import router as segments_router
from trellis.domains.site_tracking.endpoints import router as web_router
from trellis.domains.site_tracking.public import public_router as web_public_router
from trellis.domains.site_tracking.service import web_service
from trellis.domains.site_tracking.tasks import WebHitBuffer
from trellis.domains.stages.endpoints import router as stages_router
from trellis.domains.system.endpoints import router as system_router
from trellis.domains.system.schemas import Health
from trellis.domains.system.service import system_service
from trellis.domains.tracking import tasks as tracking_tasks
from trellis.domains.tracking.endpoints import RateLimiter
from trellis.domains.tracking.endpoints import public_router as tracking_public_router
from trellis.domains.tracking.endpoints import router as tracking_router
from trellis.domains.tracking.service import SignedTracking, tracking_service
from trellis.domains.users import tasks as user_tasks
from trellis.domains.users.endpoints import router as users_router
from trellis.jobs.base import JobBackend
from trellis.jobs.dramatiq_backend import DramatiqBackend, make_broker
from trellis.jobs.inline import InlineBackend
from trellis.jobs.registry import JobContext
from trellis.runtime.http import GuardedHttp
from trellis.runtime.mailer import DkimSigner, OutboxTransport, SmtpConfig, SmtpTransport, Transport
from trellis.runtime.runner import RetryPolicy
from trellis.runtime.services import Service, ServiceRunner
from trellis.settings import Settings, get_settings

log = logging.getLogger(__name__)


# In matching order: the track API takes the bulk of the API traffic.
API_ROUTERS: tuple[APIRouter, ...] = (
    track_router,
    users_router,
    projects_router,
    audit_router,
    system_router,
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
)


def configure_engine(settings: Settings) -> GuardedHttp:
    """Wire the campaign engine's outside I/O and policy from the settings; returns the HTTP
    client for the caller to close."""
    http = GuardedHttp(allow_private=settings.webhooks.allow_private)
    configure_mail(settings)
    policy = settings.campaigns
    campaign_service.configure(
        http=http,
        policy=EnginePolicy(
            batch_size=policy.batch_size,
            parallel_batches=policy.parallel_batches,
            retry=RetryPolicy(
                max_attempts=policy.max_attempts,
                first_delay_s=policy.retry_first_delay_s,
                max_delay_s=policy.retry_max_delay_s,
            ),
            lease_s=policy.lease_s,
            failure_rate=policy.failure_rate,
            failure_min_volume=policy.failure_min_volume,
        ),
    )
    return http


def build_job_backend(settings: Settings, context: JobContext) -> JobBackend:
    """Inline jobs for the embedded mode, or a Dramatiq broker for the distributed one."""
    jobs = settings.jobs
    if jobs.backend == "dramatiq" and jobs.broker_url:
        broker = make_broker(jobs.broker_url, namespace=jobs.namespace)
        return DramatiqBackend(broker, namespace=jobs.namespace)
    return InlineBackend(lambda: context, concurrency=jobs.inline_concurrency)


def configure_mail(settings: Settings) -> Transport:
    """Wire email delivery from the settings: the transport, signed links, DKIM, the cap."""
    mail = settings.mail
    transport: Transport
    if mail.transport == "smtp":
        transport = SmtpTransport(
            SmtpConfig(
                host=mail.smtp_host,
                port=mail.smtp_port,
                tls=mail.smtp_tls,
                user=mail.smtp_user,
                password=mail.smtp_password.get_secret_value() if mail.smtp_password else None,
                timeout_s=mail.smtp_timeout_s,
                pool_size=mail.pool_size,
                rate_per_second=mail.rate_per_second,
            )
        )
    else:
        transport = OutboxTransport()
    dkim = None
    if mail.dkim_selector and mail.dkim_domain and mail.dkim_key_path:
        dkim = DkimSigner.from_file(mail.dkim_selector, mail.dkim_domain, mail.dkim_key_path)
    signer = LinkSigner(settings.secret_key(), settings.base_url)
    hook = SignedTracking(signer, max_url_length=settings.tracking.max_url_length)
    tracking_service.configure(hook)
    form_service.configure(signer)
    asset_links = AssetLinks(signer)
    page_service.configure(asset_links)
    asset_service.configure(
        AssetPolicy(
            store=AssetStore(settings.data_dir / "assets"),
            links=asset_links,
            max_bytes=settings.assets.max_bytes,
            gate_link_hours=settings.assets.gate_link_hours,
        )
    )
    web_service.configure(signer, click_token_minutes=settings.web.click_token_minutes)
    email_service.configure(
        MailPolicy(
            transport=transport,
            signer=signer,
            from_address=mail.from_address,
            from_name=mail.from_name,
            unsubscribe_mailto=mail.unsubscribe_mailto,
            dkim=dkim,
            batch_size=mail.batch_size,
            max_attempts=mail.max_attempts,
            retry_first_delay_s=mail.retry_first_delay_s,
            lease_s=mail.lease_s,
            frequency_limit=mail.frequency_limit,
            frequency_days=mail.frequency_days,
            tracking=hook if settings.tracking.enabled else NoTracking(),
        )
    )
    return transport


def build_services(context: JobContext, settings: Settings) -> list[Service]:
    """The background services of `serve` and `worker`."""
    services = [
        Service(
            "segments.rebuild_changed",
            interval_s=segment_tasks.INCREMENTAL_INTERVAL_S,
            run_once=lambda: segment_tasks.rebuild_changed_contacts(context, {}),
        ),
        Service(
            "segments.rebuild_all",
            interval_s=segment_tasks.FULL_REBUILD_INTERVAL_S,
            run_once=lambda: segment_tasks.rebuild_all_published(context, {}),
        ),
        Service(
            "campaigns.tick",
            interval_s=settings.services.tick_seconds,
            run_once=lambda: campaign_tasks.tick(context, {}),
        ),
        Service(
            "emails.deliver",
            interval_s=email_tasks.DELIVERY_INTERVAL_S,
            run_once=lambda: email_tasks.deliver(context, {}),
        ),
        Service(
            "broadcasts.run",
            interval_s=broadcast_tasks.RUN_INTERVAL_S,
            run_once=lambda: broadcast_tasks.run(context, {}),
        ),
        Service(
            "users.purge_expired_sessions",
            interval_s=3600,
            run_once=lambda: user_tasks.purge_expired_sessions(context, {}),
        ),
    ]
    bounce = bounce_mailbox(settings)
    if bounce is not None:
        services.append(
            Service(
                "tracking.poll_bounces",
                interval_s=settings.mail.bounce_imap_interval_s,
                run_once=lambda: tracking_tasks.poll_bounces(
                    context.database, context.clock, bounce
                ),
            )
        )
    return services


def bounce_mailbox(settings: Settings) -> tracking_tasks.ImapConfig | None:
    """The bounce mailbox to poll, when one is configured."""
    mail = settings.mail
    if not mail.bounce_imap_host:
        return None
    return tracking_tasks.ImapConfig(
        host=mail.bounce_imap_host,
        port=mail.bounce_imap_port,
        tls=mail.bounce_imap_tls,
        user=mail.bounce_imap_user or "",
        password=mail.bounce_imap_password.get_secret_value() if mail.bounce_imap_password else "",
        mailbox=mail.bounce_imap_mailbox,
        delete=mail.bounce_imap_delete,
    )


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    clock: Clock | None = None,
    run_services: bool | None = None,
) -> FastAPI:
    settings = settings or get_settings()
    clock = clock or SystemClock()
    if database is None:
        database = Database(
            create_engine(
                settings.database_url,
                echo=settings.database.echo,
                pool_size=settings.database.pool_size,
                sqlite_busy_timeout_ms=settings.database.sqlite_busy_timeout_ms,
            )
        )
    owned_database = database
    http = configure_engine(settings)
    context = JobContext(database=database, clock=clock)
    backend = build_job_backend(settings, context)
    database.jobs = backend
    services_on = settings.services.enabled if run_services is None else run_services
    runner = ServiceRunner(build_services(context, settings) if services_on else [])
    track_batcher = TrackBatcher(database, clock)
    form_batcher = SubmissionBatcher(database, clock)
    tracking = settings.tracking
    tracking_hits = tracking_tasks.HitBuffer(
        database,
        clock,
        interval_s=tracking.flush_interval_ms / 1000,
        batch_size=tracking.flush_size,
        max_buffered=tracking.max_buffered,
    )
    web_hits = WebHitBuffer(
        database,
        clock,
        interval_s=tracking.flush_interval_ms / 1000,
        batch_size=tracking.flush_size,
        max_buffered=tracking.max_buffered,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await backend.start()
        await runner.start()
        await tracking_hits.start()
        await web_hits.start()
        try:
            yield
        finally:
            await runner.stop()
            await track_batcher.stop()
            await form_batcher.stop()
            await tracking_hits.stop()
            await web_hits.stop()
            await backend.stop()
            await http.aclose()
            await email_service.policy.transport.aclose()
            await owned_database.dispose()

    app = FastAPI(
        title="Trellis API",
        version=__version__,
        summary="Marketing-automation campaigns: contacts, segments, campaigns and channels.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.clock = clock
    app.state.jobs = backend
    app.state.track_batcher = track_batcher
    app.state.form_batcher = form_batcher
    app.state.tracking_hits = tracking_hits
    app.state.web_hits = web_hits
    app.state.web_limiter = RateLimiter(settings.web.rate_per_ip, settings.web.burst_per_ip)
    app.state.tracking_limiter = RateLimiter(tracking.rate_per_ip, tracking.burst_per_ip)
    app.state.forms_limiter = RateLimiter(settings.forms.rate_per_ip, settings.forms.burst_per_ip)
    app.state.assets_limiter = RateLimiter(
        settings.assets.rate_per_ip, settings.assets.burst_per_ip
    )

    install_problem_handlers(app)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.api.max_body_bytes,
        uploads={
            f"{API_PREFIX}/imports": settings.api.max_upload_bytes,
            f"{API_PREFIX}/campaigns/import": settings.api.max_upload_bytes,
            # Room for the multipart envelope; the file itself is held to max_bytes.
            f"{API_PREFIX}/assets": settings.assets.max_bytes + 64 * 1024,
        },
    )
    app.add_middleware(SecurityHeadersMiddleware)

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
        include_flat(app, router)
    install_ui(app)
    install_route_index(app)
    return app
