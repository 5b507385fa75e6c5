"""Configuration: one Settings root with nested groups, read from ``TRELLIS_*`` variables.

Only composition roots (``api/app.py``, ``cli/``, the worker entry point) call
:func:`get_settings`; everything else receives plain values.
"""

from __future__ import annotations

import functools
import ipaddress
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from trellis.db.urls import normalise_database_url, sqlite_file
from trellis.files import private_dir, read_or_create_secret
from trellis.schemas import HeaderText


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("trellis", appauthor=False))


class DatabaseSettings(BaseModel):
    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL. Unset: SQLite file trellis.db in the data directory. "
        "A postgresql:// URL selects PostgreSQL (asyncpg).",
    )
    pool_size: int = 10
    echo: bool = False
    sqlite_busy_timeout_ms: int = 30_000
    interactive_query_timeout_s: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="Longest a query run while someone waits and edits may take (the count of "
        "a segment filter); it is then cancelled and the request answers 422.",
    )


class JobsSettings(BaseModel):
    backend: Literal["inline", "dramatiq"] = Field(
        default="inline",
        description="inline: jobs run inside the process that enqueues them (embedded mode). "
        "dramatiq: jobs go through a Redis or RabbitMQ broker to `trellis worker` processes.",
    )
    inline_concurrency: int = Field(default=4, ge=1, le=64)
    broker_url: str | None = Field(
        default=None,
        description="For the dramatiq backend: redis://host:6379/0 or amqp://user:pass@host:5672/.",
    )
    namespace: str = Field(
        default="trellis",
        pattern=r"^[A-Za-z_][A-Za-z0-9_-]{0,40}$",
        description="Prefix of the queue names, so that two instances can share one broker.",
    )
    worker_threads: int = Field(
        default=8, ge=1, le=256, description="Jobs one `trellis worker` runs at the same time."
    )

    @model_validator(mode="after")
    def _broker_for_dramatiq(self) -> JobsSettings:
        if self.backend == "dramatiq" and not self.broker_url:
            raise ValueError("jobs.backend 'dramatiq' needs TRELLIS_JOBS__BROKER_URL")
        return self


class ServicesSettings(BaseModel):
    enabled: bool = Field(
        default=True, description="Run background services (scheduler, cleanup) inside `serve`."
    )
    tick_seconds: float = Field(default=1.0, gt=0)


class ApiSettings(BaseModel):
    max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    max_upload_bytes: int = Field(
        default=1024 * 1024 * 1024, ge=1024, description="Limit for file uploads (CSV imports)."
    )
    max_page_size: int = Field(default=500, ge=1)
    default_page_size: int = Field(default=50, ge=1)
    rate_limit_redis_url: str | None = Field(
        default=None,
        description="Redis shared by every API process for the per-address rate limits. "
        "Unset: the jobs broker when it is Redis, else each process counts on its own.",
    )
    trusted_proxies: list[str] = Field(
        default=[],
        description="Addresses or networks (10.0.0.0/8) of reverse proxies whose "
        "X-Forwarded-For and X-Forwarded-Proto are believed. Empty: none, every limit per "
        "address counts the peer that connected.",
    )
    hsts_max_age_s: int = Field(
        default=0,
        ge=0,
        le=2 * 365 * 24 * 3600,
        description="Strict-Transport-Security max-age on every response, for deployments "
        "served over TLS only. 0: no header.",
    )
    hsts_include_subdomains: bool = Field(
        default=False, description="Add includeSubDomains to Strict-Transport-Security."
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, entries: list[str]) -> list[str]:
        for entry in entries:
            try:
                ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError:
                raise ValueError(
                    f"{entry!r} is not an IP address or network (such as 10.0.0.0/8)"
                ) from None
        return [entry.strip() for entry in entries]


class AuthSettings(BaseModel):
    secret_key: SecretStr | None = Field(
        default=None,
        description="Key for signing tokens. Unset: generated once and kept in the data directory.",
    )
    session_hours: int = Field(
        default=12, ge=1, description="A browser session unused this long ends (idle lifetime)."
    )
    session_max_hours: int = Field(
        default=72,
        ge=1,
        description="A browser session ends this long after sign-in however much it is used "
        "(absolute lifetime).",
    )
    cookie_secure: bool | None = Field(
        default=None, description="Secure flag on cookies. Unset: on unless serving over http."
    )
    login_attempts_per_minute_per_ip: int = Field(
        default=20, ge=1, description="Failed sign-in attempts per minute from one address."
    )
    login_free_failures: int = Field(
        default=5,
        ge=1,
        description="Failed sign-ins in a row on one account before each next attempt on it "
        "must wait (1 s, then twice as long each time).",
    )
    login_max_delay_s: int = Field(
        default=60,
        ge=1,
        le=3600,
        description="The longest wait between two sign-in attempts on one account: the owner "
        "is slowed down by at most this, never locked out.",
    )


class CampaignSettings(BaseModel):
    batch_size: int = Field(default=20000, ge=1, le=100_000, description="Contacts per batch.")
    parallel_batches: int = Field(
        default=2,
        ge=1,
        le=16,
        description="On PostgreSQL, batches of a segment's first intake run side by side, one "
        "transaction and one connection each.",
    )
    max_attempts: int = Field(default=5, ge=1, le=100, description="Tries before a step is dead.")
    retry_first_delay_s: float = Field(default=60, gt=0, description="Doubles on each retry.")
    retry_max_delay_s: float = Field(default=6 * 3600, gt=0)
    lease_s: int = Field(
        default=300,
        ge=10,
        description="A claimed step whose worker stopped renewing its lease returns after this.",
    )
    calls_in_flight: int = Field(
        default=10,
        ge=1,
        le=100,
        description="Webhook calls on the wire at once per batch; a crash repeats at most these.",
    )
    failure_rate: float = Field(
        default=0.2, gt=0, le=1, description="Share of dead steps that pauses a campaign."
    )
    failure_min_volume: int = Field(default=100, ge=1)


class WebhookSettings(BaseModel):
    allow_private: bool = Field(
        default=False,
        description="Let webhooks call private, loopback and link-local addresses.",
    )


class MailSettings(BaseModel):
    transport: Literal["outbox", "smtp"] = Field(
        default="outbox",
        description="outbox keeps every message in the database (shown in the UI and the API) "
        "instead of delivering it; smtp delivers through the server below.",
    )
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_tls: Literal["none", "starttls", "tls"] = Field(
        default="starttls", description="tls: implicit TLS (port 465); starttls: upgrade."
    )
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_s: float = Field(default=30, gt=0)
    pool_size: int = Field(default=4, ge=1, le=100, description="SMTP connections kept open.")
    rate_per_second: float = Field(
        default=0, ge=0, description="At most this many messages per second; 0: no limit."
    )
    # The sender's name and addresses go into message headers: one line, no control characters.
    from_address: HeaderText = Field(
        default="trellis@localhost", description="Sender when an email names none."
    )
    from_name: HeaderText = "Trellis"
    unsubscribe_mailto: HeaderText | None = Field(
        default=None,
        description="Address for the mailto part of List-Unsubscribe. Unset: "
        "unsubscribe@<the sender's domain>.",
    )
    dkim_selector: HeaderText | None = None
    dkim_domain: HeaderText | None = None
    dkim_key_path: Path | None = Field(default=None, description="PEM private key (RSA).")
    batch_size: int = Field(default=500, ge=1, le=10_000, description="Messages per delivery pass.")
    max_attempts: int = Field(default=5, ge=1, le=100, description="Tries before a send fails.")
    retry_first_delay_s: float = Field(default=60, gt=0, description="Doubles on each retry.")
    lease_s: float = Field(
        default=300,
        ge=1,
        description="A claimed send comes back to the queue this long after its process "
        "stopped renewing the claim (it died, or lost the database). Renewed every quarter "
        "of it while sending; messages stop going out when half of it is left unrenewed.",
    )
    frequency_limit: int = Field(
        default=0, ge=0, description="Marketing emails per contact per period; 0: no cap."
    )
    frequency_days: int = Field(default=7, ge=1, le=365)
    bounce_imap_host: str | None = Field(
        default=None,
        description="IMAP server of the mailbox bounces (DSN, RFC 3464) and complaints (ARF) "
        "arrive in. Unset: no mailbox is polled.",
    )
    bounce_imap_port: int = Field(default=993, ge=1, le=65535)
    bounce_imap_tls: Literal["tls", "starttls", "none"] = Field(
        default="tls", description="tls: implicit TLS (port 993); starttls: upgrade (143)."
    )
    bounce_imap_user: str | None = None
    bounce_imap_password: SecretStr | None = None
    bounce_imap_mailbox: str = Field(default="INBOX", max_length=200)
    bounce_imap_interval_s: float = Field(
        default=300, ge=10, description="Seconds between two polls of the bounce mailbox."
    )
    bounce_imap_delete: bool = Field(
        default=False,
        description="Delete processed bounce messages; otherwise they are marked as read.",
    )


class TrackingSettings(BaseModel):
    enabled: bool = Field(
        default=True,
        description="Rewrite links for click tracking and add the open pixel to messages.",
    )
    flush_interval_ms: int = Field(
        default=200, ge=10, le=10_000, description="Opens and clicks are written this often..."
    )
    flush_size: int = Field(
        default=500, ge=1, le=50_000, description="...or as soon as this many are waiting."
    )
    max_buffered: int = Field(
        default=200_000,
        ge=1000,
        description="Hits kept in memory while the database does not answer; beyond this, "
        "new ones are refused with 429.",
    )
    rate_per_ip: float = Field(
        default=200,
        ge=0,
        description="Tracking requests per second per IP address (0: no limit).",
    )
    burst_per_ip: int = Field(default=2000, ge=1, description="Requests allowed in a burst.")
    max_url_length: int = Field(default=4096, ge=256, le=65_536)


class FormSettings(BaseModel):
    rate_per_ip: float = Field(
        default=1,
        ge=0,
        description="Public form requests (pages, scripts, submissions) per second per IP "
        "address, sustained (0: no limit).",
    )
    burst_per_ip: int = Field(default=30, ge=1, description="Requests allowed in a burst.")


class AssetSettings(BaseModel):
    max_bytes: int = Field(
        default=20 * 1024 * 1024,
        ge=1024,
        le=2 * 1024 * 1024 * 1024,
        description="The largest asset file an upload may carry, in bytes.",
    )
    rate_per_ip: float = Field(
        default=5,
        ge=0,
        description="Public page and download requests per second per IP address (0: no limit).",
    )
    burst_per_ip: int = Field(default=60, ge=1, description="Requests allowed in a burst.")
    gate_link_hours: int = Field(
        default=24, ge=1, le=24 * 30, description="How long a gated asset's download link works."
    )


class WebSettings(BaseModel):
    """Website tracking (the script at /t/w.js and its endpoint POST /t/hit)."""

    allowed_origins: list[str] = Field(
        default=[],
        description="Origins (https://www.example.com) whose pages may post hits; empty: any.",
    )
    click_token: bool = Field(
        default=False,
        description="Tracked email links append a signed, short-lived trellis_ct parameter "
        "(to allowed origins only, when they are set), so that the site's script can tell "
        "who the visitor is.",
    )
    click_token_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    rate_per_ip: float = Field(
        default=20, ge=0, description="Page hits per second per IP address (0: no limit)."
    )
    burst_per_ip: int = Field(default=200, ge=1, description="Hits allowed in a burst.")


class PrivacySettings(BaseModel):
    """Data clean-up and IP addresses (docs/privacy.md). Retention periods themselves are
    set on the Settings > Data retention page (or ``PATCH /api/v2/privacy/retention``)."""

    anonymise_ips: bool = Field(
        default=True,
        description="Store network addresses truncated (IPv4 /24, IPv6 /48) from the start, in "
        "form submissions, asset downloads and consent records. Keep it on for EU deployments.",
    )
    cleanup_enabled: bool = Field(
        default=True, description="Run the enabled retention policies inside serve/worker."
    )
    cleanup_interval_s: float = Field(
        default=6 * 3600, ge=60, description="Seconds between two scheduled clean-up passes."
    )
    cleanup_batch_size: int = Field(
        default=2000,
        ge=10,
        le=100_000,
        description="Rows deleted per transaction: small enough that live traffic waits at "
        "most one batch for the database.",
    )
    cleanup_pause_ms: int = Field(
        default=5,
        ge=0,
        le=10_000,
        description="Pause between two clean-up batches, leaving the database to live traffic.",
    )


class LoggingSettings(BaseModel):
    level: str = "INFO"
    format: Literal["console", "json"] = "console"
    to_file: bool = Field(default=True, description="Also write JSON lines to <data dir>/logs.")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TRELLIS_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    base_url: str = Field(
        default="http://127.0.0.1:8000", description="Public URL, used in links and emails."
    )
    database: DatabaseSettings = DatabaseSettings()
    jobs: JobsSettings = JobsSettings()
    services: ServicesSettings = ServicesSettings()
    api: ApiSettings = ApiSettings()
    auth: AuthSettings = AuthSettings()
    campaigns: CampaignSettings = CampaignSettings()
    webhooks: WebhookSettings = WebhookSettings()
    mail: MailSettings = MailSettings()
    tracking: TrackingSettings = TrackingSettings()
    forms: FormSettings = FormSettings()
    assets: AssetSettings = AssetSettings()
    web: WebSettings = WebSettings()
    privacy: PrivacySettings = PrivacySettings()
    logging: LoggingSettings = LoggingSettings()

    @model_validator(mode="after")
    def _expand_data_dir(self) -> Settings:
        self.data_dir = self.data_dir.expanduser().resolve()
        return self

    @property
    def database_url(self) -> str:
        return normalise_database_url(
            self.database.url or f"sqlite:///{self.data_dir / 'trellis.db'}"
        )

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def cookie_secure(self) -> bool:
        if self.auth.cookie_secure is not None:
            return self.auth.cookie_secure
        return self.base_url.startswith("https://")

    def rate_limit_redis(self) -> str | None:
        """Where the rate limits are shared, if anywhere (see ``api.rate_limit_redis_url``)."""
        if self.api.rate_limit_redis_url:
            return self.api.rate_limit_redis_url
        broker = self.jobs.broker_url or ""
        if self.jobs.backend == "dramatiq" and broker.startswith(("redis://", "rediss://")):
            return broker
        return None

    def serving_at(self, host: str, port: int) -> Settings:
        """These settings for a server listening on ``host:port``: unless a base URL is
        configured, links and embed codes point at that address, so ``serve --port 8123``
        does not send emails with links to port 8000."""
        if "base_url" in self.model_fields_set:
            return self
        # A wildcard bind has no single address; the loopback one works on this machine and
        # the UI warns when the browser uses another.
        wildcard = {"", "0.0.0.0"}  # noqa: S104 - compared with, never bound to
        reachable = "127.0.0.1" if host in wildcard else "::1" if host == "::" else host
        if ":" in reachable:
            reachable = f"[{reachable}]"
        return self.model_copy(update={"base_url": f"http://{reachable}:{port}"})

    def missing_sqlite_database(self) -> Path | None:
        """The embedded database's file when it does not exist yet (None: it does, or the
        database is not an SQLite file)."""
        path = sqlite_file(self.database_url)
        if path is None or Path(path).exists():
            return None
        return Path(path)

    def ensure_dirs(self) -> None:
        for directory in (self.data_dir, self.uploads_dir, self.logs_dir):
            private_dir(directory)

    def secret_key(self) -> bytes:
        """The signing key: configured, or generated once and kept in the data directory."""
        if self.auth.secret_key is not None:
            return self.auth.secret_key.get_secret_value().encode()
        self.ensure_dirs()
        return read_or_create_secret(self.data_dir / "secret.key").encode()


@functools.cache
def get_settings() -> Settings:
    return Settings()
