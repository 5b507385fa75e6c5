"""Emails created and delivered the way a user and the worker would."""

from __future__ import annotations

from typing import Any

import httpx

from tests.fixtures.api import Harness
from trellis.domains.emails import tasks as email_tasks
from trellis.jobs.registry import JobContext

MJML = """<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-text>Hello {contactfield=first_name|friend},</mj-text>
        <mj-button href="https://shop.example.com/spring">Shop</mj-button>
        <mj-text><a href="{unsubscribe_url}">Unsubscribe</a></mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>"""


async def create_email(admin: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    body = {
        "name": "Spring",
        "subject": "Hi {contactfield=first_name|there}",
        "body": MJML,
        "is_published": True,
        **fields,
    }
    response = await admin.post("/api/v2/emails", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def deliver(harness: Harness) -> Any:
    """Wait for the delivery job a commit woke, then one pass of the delivery service, as
    `trellis serve` and `trellis worker` run it."""
    from trellis.domains.emails.service import email_service

    await harness.app.state.jobs.drain()
    context = JobContext(database=harness.database, clock=harness.clock)
    await email_tasks.deliver(context, {})
    return email_service


async def sends(admin: httpx.AsyncClient, email_id: int) -> list[dict[str, Any]]:
    response = await admin.get(f"/api/v2/emails/{email_id}/sends", params={"page[size]": 500})
    assert response.status_code == 200, response.text
    return list(response.json()["data"])
