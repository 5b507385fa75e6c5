"""The application under test delivers through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.database import DatabaseUnderTest
from tests.fixtures.smtp import SmtpServer, smtp_server
from trellis.settings import DatabaseSettings, MailSettings, Settings, TrackingSettings

__all__ = ["smtp_server"]


def smtp_settings(
    tmp_path: Path, test_database: DatabaseUnderTest, smtp_server: SmtpServer, **mail: Any
) -> Settings:
    """Settings that deliver through the test SMTP server; ``mail`` overrides MailSettings."""
    return Settings(
        data_dir=tmp_path / "data",
        database=DatabaseSettings(url=test_database.url),
        base_url="http://testserver",
        # Links stay as written here; tests/domains/tracking covers their rewriting.
        tracking=TrackingSettings(enabled=False),
        mail=MailSettings(
            **{
                "transport": "smtp",
                "smtp_host": smtp_server.host,
                "smtp_port": smtp_server.port,
                "smtp_tls": "none",
                "pool_size": 2,
                "from_address": "news@trellis.test",
                "from_name": "Trellis News",
                "max_attempts": 3,
                "retry_first_delay_s": 60,
                **mail,
            }
        ),
    )


@pytest.fixture
def settings(tmp_path: Path, test_database: DatabaseUnderTest, smtp_server: SmtpServer) -> Settings:
    return smtp_settings(tmp_path, test_database, smtp_server)
