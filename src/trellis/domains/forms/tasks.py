"""Jobs of the forms domain: the webhook a form's "call a webhook" action sends after the
submission is committed."""

from __future__ import annotations

import json
import logging
from typing import Any

from trellis.domains.forms.service import WEBHOOK_JOB, form_service
from trellis.jobs.registry import JobContext, job

log = logging.getLogger(__name__)
TIMEOUT_S = 10.0


class WebhookFailed(Exception):
    pass


@job(WEBHOOK_JOB, max_retries=3)
async def send_webhook(ctx: JobContext, payload: dict[str, Any]) -> None:
    """POST the submission as JSON through the SSRF-guarded client; anything but a 2xx
    answer fails the job, which is retried with the same Idempotency-Key."""
    result = await form_service.http.send(
        method=str(payload.get("method", "POST")),
        url=str(payload["url"]),
        headers={
            "Content-Type": "application/json",
            "Idempotency-Key": str(payload.get("idempotency_key", "")),
            "User-Agent": "Trellis forms",
        },
        body=json.dumps(payload.get("body", {})),
        timeout_s=TIMEOUT_S,
    )
    if result.status is None or not 200 <= result.status < 300:
        log.warning(
            "form webhook failed",
            extra={"url": payload.get("url"), "status": result.status, "error": result.error},
        )
        raise WebhookFailed(result.error or f"HTTP {result.status}")
