from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, StringConstraints

from trellis.domains.users.schemas import Locale, Timezone
from trellis.schemas import InputModel


class InstanceSettings(BaseModel):
    instance_name: str = "Trellis"
    default_timezone: str = "UTC"
    default_locale: str = "en"


class InstanceSettingsView(InstanceSettings):
    # Where links in emails and embed codes point: configured, or the address the server
    # listens on. Not stored with the settings above; the UI compares it with its own address.
    base_url: str


class InstanceSettingsUpdate(InputModel):
    instance_name: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    default_timezone: Timezone | None = None
    default_locale: Locale | None = None


class SystemInfo(BaseModel):
    version: str
    database: str
    data_dir: str
    jobs_backend: str
    services_enabled: bool


class Health(BaseModel):
    status: str
    checks: dict[str, str] = {}
