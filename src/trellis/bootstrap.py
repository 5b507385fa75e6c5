"""The composition root. Every entry point (``trellis serve``, ``trellis worker`` and each CLI
command) builds the application here, the same way.

Two parts:

- the :class:`Catalogue`: what the application is made of (campaign event types, segment
  filter types, timeline sources, merge hooks, project-able entities, field-usage checks,
  jobs), built from the explicit lists below plus third-party entry points. Nothing is added
  to it by importing a module, so every process knows the same types whatever it imported;
- the :class:`Application`: the catalogue wired into the services together with what the
  settings choose (database, clock, job backend, mail transport, signed links, asset store,
  the guarded HTTP client for webhooks), and the background services of ``serve``/``worker``.

Lower domains reach higher ones only through ports wired here (see ``_wire_ports``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from trellis.clock import Clock, SystemClock
from trellis.db.session import Database, create_engine
from trellis.domains.assets import service as assets
from trellis.domains.assets.links import AssetLinks
from trellis.domains.assets.storage import AssetStore
from trellis.domains.broadcasts import tasks as broadcast_tasks
from trellis.domains.campaigns import filters as campaign_filters
from trellis.domains.campaigns import service as campaigns
from trellis.domains.campaigns import tasks as campaign_tasks
from trellis.domains.contacts.history import MergeHook, TimelineSource
from trellis.domains.contacts.service import contact_service
from trellis.domains.emails import history as email_history
from trellis.domains.emails import service as emails
from trellis.domains.emails import tasks as email_tasks
from trellis.domains.emails.links import ClickTokens, LinkSigner
from trellis.domains.emails.render import NoTracking
from trellis.domains.fields.service import FieldUsage, field_service
from trellis.domains.forms import filters as form_filters
from trellis.domains.forms import service as forms
from trellis.domains.forms import tasks as form_tasks
from trellis.domains.imports import tasks as import_tasks
from trellis.domains.landing_pages import service as landing_pages
from trellis.domains.privacy import filters as privacy_filters
from trellis.domains.privacy import tasks as privacy_tasks
from trellis.domains.privacy.service import CleanupConfig, privacy_service
from trellis.domains.projects.links import ProjectableType, project_links
from trellis.domains.segments import builtin_filters
from trellis.domains.segments import filters as segment_filters
from trellis.domains.segments import service as segments
from trellis.domains.segments import tasks as segment_tasks
from trellis.domains.site_tracking import filters as site_tracking_filters
from trellis.domains.site_tracking import service as site_tracking
from trellis.domains.tracking import bounces
from trellis.domains.tracking import filters as tracking_filters
from trellis.domains.tracking import service as tracking
from trellis.domains.users import tasks as user_tasks
from trellis.events.registry import Registry
from trellis.jobs.base import JobBackend
from trellis.jobs.inline import InlineBackend
from trellis.jobs.registry import JobContext, JobFunction, JobRegistry
from trellis.runtime.http import GuardedHttp
from trellis.runtime.mailer import DkimSigner, OutboxTransport, SmtpConfig, SmtpTransport, Transport
from trellis.runtime.runner import RetryPolicy
from trellis.runtime.services import Service
from trellis.settings import Settings

log = logging.getLogger(__name__)

TRANSPORT_CLOSE_S = 2.0

# -- the catalogue: explicit lists ------------------------------------------------------------

SEGMENT_FILTER_TYPES: tuple[segment_filters.FilterType, ...] = (
    *builtin_filters.BUILTIN_FILTER_TYPES,
    *tracking_filters.FILTER_TYPES,
    *form_filters.FILTER_TYPES,
    *site_tracking_filters.FILTER_TYPES,
    *campaign_filters.FILTER_TYPES,
    *privacy_filters.FILTER_TYPES,
)

TIMELINE_SOURCES: Mapping[str, TimelineSource] = {
    "segments": segments.segment_service.timeline,
    "emails": email_history.contact_timeline,
    "tracking": tracking.contact_timeline,
    "forms": forms.contact_timeline,
    "web": site_tracking.contact_timeline,
    "campaigns": campaigns.contact_timeline,
}

MERGE_HOOKS: Mapping[str, MergeHook] = {
    "segments": segments.segment_service.merge_contacts,
    "emails": email_history.merge_contacts,
    "tracking": tracking.merge_contacts,
    "forms": forms.merge_contacts,
    "web": site_tracking.merge_contacts,
    "campaigns": campaigns.merge_contacts,
}

PROJECTABLES: tuple[ProjectableType, ...] = (
    segments.PROJECTABLE,
    emails.PROJECTABLE,
    forms.PROJECTABLE,
    landing_pages.PROJECTABLE,
    assets.PROJECTABLE,
    campaigns.PROJECTABLE,
)

FIELD_USAGES: tuple[FieldUsage, ...] = (segments.segment_service.fields_in_use,)

JOBS: tuple[JobFunction, ...] = (
    campaign_tasks.tick,
    campaign_tasks.run_campaign,
    campaign_tasks.take_intake,
    campaign_tasks.help_with_steps,
    segment_tasks.rebuild_one,
    segment_tasks.rebuild_all_published,
    segment_tasks.rebuild_changed_contacts,
    email_tasks.deliver,
    broadcast_tasks.run,
    form_tasks.send_webhook,
    import_tasks.run_import_job,
    user_tasks.purge_expired_sessions,
    privacy_tasks.cleanup,
)


@dataclass(frozen=True)
class Catalogue:
    events: Registry
    segment_filters: segment_filters.FilterRegistry
    timeline_sources: Mapping[str, TimelineSource]
    merge_hooks: Mapping[str, MergeHook]
    projectables: tuple[ProjectableType, ...]
    field_usages: tuple[FieldUsage, ...]
    jobs: JobRegistry

    def describe(self) -> dict[str, list[str]]:
        """Every entry by name: what two processes compare to know they run the same thing."""
        return {
            "events": sorted(t.key for t in self.events),
            "segment_filters": self.segment_filters.keys(),
            "timeline_sources": sorted(self.timeline_sources),
            "merge_hooks": sorted(self.merge_hooks),
            "projectables": sorted(p.entity_type for p in self.projectables),
            "field_usages": sorted(_name_of(check) for check in self.field_usages),
            "jobs": self.jobs.names(),
        }


def build_catalogue() -> Catalogue:
    return Catalogue(
        events=Registry.default(),
        segment_filters=segment_filters.FilterRegistry(SEGMENT_FILTER_TYPES),
        timeline_sources=TIMELINE_SOURCES,
        merge_hooks=MERGE_HOOKS,
        projectables=PROJECTABLES,
        field_usages=FIELD_USAGES,
        jobs=JobRegistry(JOBS),
    )


def _name_of(function: Any) -> str:
    return f"{function.__module__}.{function.__qualname__}"


# -- the application --------------------------------------------------------------------------


@dataclass
class Application:
    settings: Settings
    catalogue: Catalogue
    database: Database
    clock: Clock
    jobs: JobBackend
    http: GuardedHttp
    transport: Transport
    _owns_database: bool

    @property
    def job_context(self) -> JobContext:
        return JobContext(database=self.database, clock=self.clock)

    def background_services(self) -> list[Service]:
        """The periodic services of ``serve`` and ``worker``."""
        context = self.job_context
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
                interval_s=self.settings.services.tick_seconds,
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
        privacy = self.settings.privacy
        if privacy.cleanup_enabled:
            # Checked often, applied once per interval: several workers share the schedule.
            services.append(
                Service(
                    "privacy.cleanup",
                    interval_s=min(privacy.cleanup_interval_s, 600),
                    run_once=lambda: privacy_tasks.cleanup(
                        context, {"every_s": privacy.cleanup_interval_s}
                    ),
                )
            )
        bounce = _bounce_mailbox(self.settings)
        if bounce is not None:
            services.append(
                Service(
                    "tracking.poll_bounces",
                    interval_s=self.settings.mail.bounce_imap_interval_s,
                    run_once=lambda: bounces.poll_bounces(context.database, context.clock, bounce),
                )
            )
        return services

    async def aclose(self) -> None:
        await self.http.aclose()
        # A polite QUIT on a connection whose server no longer answers (a message cut off by
        # the shutdown) would wait for the SMTP timeout: stopping must not.
        try:
            await asyncio.wait_for(self.transport.aclose(), timeout=TRANSPORT_CLOSE_S)
        except TimeoutError:
            log.warning("the mail transport did not close in time; its connections are dropped")
        if self._owns_database:
            await self.database.dispose()


def build(
    settings: Settings,
    *,
    database: Database | None = None,
    clock: Clock | None = None,
    catalogue: Catalogue | None = None,
) -> Application:
    """The application for ``settings``: the catalogue wired into the services, the outside
    I/O the settings choose, and the job backend."""
    catalogue = catalogue or build_catalogue()
    owns_database = database is None
    if database is None:
        database = open_database(settings)
    clock = clock or SystemClock()
    _wire_catalogue(catalogue, settings)
    http = GuardedHttp(allow_private=settings.webhooks.allow_private)
    transport = _wire_channels(settings)
    _wire_engine(settings, catalogue, http)
    _wire_ports(http)
    _wire_privacy(settings)
    context = JobContext(database=database, clock=clock)
    jobs = _job_backend(settings, catalogue.jobs, context)
    database.jobs = jobs
    return Application(
        settings=settings,
        catalogue=catalogue,
        database=database,
        clock=clock,
        jobs=jobs,
        http=http,
        transport=transport,
        _owns_database=owns_database,
    )


@asynccontextmanager
async def running(settings: Settings, *, clock: Clock | None = None) -> AsyncIterator[Application]:
    """The application for one CLI command: built, then closed however the command ends."""
    application = build(settings, clock=clock)
    try:
        yield application
    finally:
        await application.aclose()


def open_database(settings: Settings) -> Database:
    return Database(
        create_engine(
            settings.database_url,
            echo=settings.database.echo,
            pool_size=settings.database.pool_size,
            sqlite_busy_timeout_ms=settings.database.sqlite_busy_timeout_ms,
        )
    )


# -- wiring -----------------------------------------------------------------------------------


def _wire_catalogue(catalogue: Catalogue, settings: Settings) -> None:
    segments.segment_service.configure(
        filters=catalogue.segment_filters,
        count_timeout_s=settings.database.interactive_query_timeout_s,
    )
    contact_service.configure(
        timeline_sources=catalogue.timeline_sources,
        merge_hooks=catalogue.merge_hooks,
        suppressions=privacy_service,
    )
    project_links.configure(projectables=catalogue.projectables)
    field_service.configure(usage_checks=catalogue.field_usages)


def _wire_engine(settings: Settings, catalogue: Catalogue, http: GuardedHttp) -> None:
    policy = settings.campaigns
    campaigns.campaign_service.configure(
        registry=catalogue.events,
        http=http,
        policy=campaigns.EnginePolicy(
            batch_size=policy.batch_size,
            parallel_batches=policy.parallel_batches,
            retry=RetryPolicy(
                max_attempts=policy.max_attempts,
                first_delay_s=policy.retry_first_delay_s,
                max_delay_s=policy.retry_max_delay_s,
            ),
            lease_s=policy.lease_s,
            calls_in_flight=policy.calls_in_flight,
            failure_rate=policy.failure_rate,
            failure_min_volume=policy.failure_min_volume,
        ),
    )


def _wire_ports(http: GuardedHttp) -> None:
    """The channels reach the campaigns (a higher domain) through the Journeys port."""
    journeys = campaigns.campaign_service
    forms.form_service.journeys = journeys
    forms.form_service.consents = privacy_service
    forms.form_service.http = http
    assets.asset_service.journeys = journeys
    tracking.tracking_service.journeys = journeys
    site_tracking.web_service.journeys = journeys


def _wire_privacy(settings: Settings) -> None:
    privacy = settings.privacy
    privacy_service.configure(
        CleanupConfig(
            batch_size=privacy.cleanup_batch_size,
            pause_s=privacy.cleanup_pause_ms / 1000,
            anonymise_ips=privacy.anonymise_ips,
        )
    )
    forms.form_service.anonymise_ips = privacy.anonymise_ips


def _wire_channels(settings: Settings) -> Transport:
    """Email delivery, signed links, DKIM, the asset store and the frequency cap."""
    mail = settings.mail
    transport = _transport(settings)
    dkim = None
    if mail.dkim_selector and mail.dkim_domain and mail.dkim_key_path:
        dkim = DkimSigner.from_file(mail.dkim_selector, mail.dkim_domain, mail.dkim_key_path)
    signer = LinkSigner(settings.secret_key(), settings.base_url)
    hook = tracking.SignedTracking(signer, max_url_length=settings.tracking.max_url_length)
    click_tokens = ClickTokens(signer, lifetime_s=settings.web.click_token_minutes * 60)
    tracking.tracking_service.configure(hook, click_tokens)
    forms.form_service.configure(signer)
    asset_links = AssetLinks(signer)
    landing_pages.page_service.configure(asset_links)
    assets.asset_service.configure(
        assets.AssetPolicy(
            store=AssetStore(settings.data_dir / "assets"),
            links=asset_links,
            max_bytes=settings.assets.max_bytes,
            gate_link_hours=settings.assets.gate_link_hours,
        )
    )
    site_tracking.web_service.configure(click_tokens)
    emails.email_service.configure(
        emails.MailPolicy(
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
            # Each connection has one message on the wire and may have one more answered and
            # waiting for its outcome to be committed. The outbox sends nothing.
            in_flight=2 * mail.pool_size if mail.transport == "smtp" else mail.batch_size,
            frequency_limit=mail.frequency_limit,
            frequency_days=mail.frequency_days,
            tracking=hook if settings.tracking.enabled else NoTracking(),
        )
    )
    return transport


def _transport(settings: Settings) -> Transport:
    mail = settings.mail
    if mail.transport != "smtp":
        return OutboxTransport()
    return SmtpTransport(
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


def _job_backend(settings: Settings, jobs: JobRegistry, context: JobContext) -> JobBackend:
    """Inline jobs for the embedded mode, or a Dramatiq broker for the distributed one."""
    config = settings.jobs
    if config.backend == "dramatiq" and config.broker_url:
        # Dramatiq and its broker clients (redis, pika) are imported only by the processes
        # that use them: they cost every other command a few tenths of a second to start.
        from trellis.jobs.dramatiq_backend import DramatiqBackend, make_broker

        broker = make_broker(config.broker_url, namespace=config.namespace)
        return DramatiqBackend(broker, jobs, namespace=config.namespace)
    return InlineBackend(lambda: context, jobs, concurrency=config.inline_concurrency)


def _bounce_mailbox(settings: Settings) -> bounces.ImapConfig | None:
    """The bounce mailbox to poll, when one is configured."""
    mail = settings.mail
    if not mail.bounce_imap_host:
        return None
    return bounces.ImapConfig(
        host=mail.bounce_imap_host,
        port=mail.bounce_imap_port,
        tls=mail.bounce_imap_tls,
        user=mail.bounce_imap_user or "",
        password=mail.bounce_imap_password.get_secret_value() if mail.bounce_imap_password else "",
        mailbox=mail.bounce_imap_mailbox,
        delete=mail.bounce_imap_delete,
    )
