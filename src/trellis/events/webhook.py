"""Send webhook: an HTTP call per contact, with contact tokens and an idempotency key.

Only a 2xx answer succeeds; anything else, or a timeout, fails and is retried with the same
``Idempotency-Key``, so a receiver can drop a duplicate delivery.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlsplit

from pydantic import Field, StringConstraints, field_validator

from trellis.engine.graph import Kind
from trellis.events.base import EventConfig, EventType, Outcome, StepContext

TOKEN = re.compile(r"\{contactfield=([a-z][a-z0-9_]{0,63})(?:\|([^}]*))?\}")
HeaderName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$")]
# Printable ASCII only: anything else could not be sent as a header.
HeaderValue = Annotated[str, StringConstraints(max_length=2000, pattern=r"^[\x20-\x7e]*$")]
RESERVED_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "idempotency-key",
        "te",
        "upgrade",
        "keep-alive",
    }
)
# The runtime hands a handler at most its calls-in-flight window at a time; this only bounds
# a direct call with a larger batch.
CONCURRENCY = 100


class Header(EventConfig):
    name: HeaderName
    value: HeaderValue

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, name: str) -> str:
        if name.lower() in RESERVED_HEADERS:
            raise ValueError(f"{name} is set by Trellis itself")
        return name


class SendWebhook(EventConfig):
    url: Annotated[str, StringConstraints(min_length=8, max_length=2000)] = Field(
        description="http(s) URL; {contactfield=alias} tokens are URL-encoded."
    )
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    headers: Annotated[list[Header], Field(max_length=30)] = []
    body: Annotated[str, StringConstraints(max_length=100_000)] = Field(
        default="",
        description="Body template; {contactfield=alias|default} tokens are "
        "replaced (JSON-escaped when the content type is JSON).",
    )
    timeout_s: Annotated[float, Field(ge=1, le=30)] = 10

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parts = urlsplit(TOKEN.sub("x", url))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("an http:// or https:// URL with a host")
        if parts.username or parts.password:
            raise ValueError("credentials do not belong in the URL; use a header")
        return url


def render(
    template: str,
    values: Mapping[str, Any],
    *,
    json_escape: bool = False,
    url_encode: bool = False,
) -> str:
    def replace(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        text = match.group(2) or "" if value in (None, "") else str(value)
        if url_encode:
            return quote(text, safe="")
        return json.dumps(text)[1:-1] if json_escape else text

    return TOKEN.sub(replace, template)


async def send_webhook(
    ctx: StepContext, config: SendWebhook, ids: list[int]
) -> Mapping[int, Outcome]:
    values = await ctx.ports.contacts.values(ids)
    headers = {h.name: h.value for h in config.headers}
    json_body = any(
        name.lower() == "content-type" and "json" in value.lower()
        for name, value in headers.items()
    )
    gate = asyncio.Semaphore(CONCURRENCY)

    async def call(contact_id: int) -> tuple[int, Outcome]:
        contact = values.get(contact_id, {})
        url = render(config.url, contact, url_encode=True)
        body = render(config.body, contact, json_escape=json_body) if config.body else None
        sent_headers = {**headers, "Idempotency-Key": ctx.idempotency_key(contact_id)}
        async with gate:
            result = await ctx.ports.http.send(
                method=config.method,
                url=url,
                headers=sent_headers,
                body=None if config.method in ("GET", "DELETE") else body,
                timeout_s=config.timeout_s,
            )
        if result.status is not None and 200 <= result.status < 300:
            return contact_id, Outcome()
        reason = result.error or f"The server answered {result.status}."
        return contact_id, Outcome.fail(reason)

    return dict(await asyncio.gather(*(call(cid) for cid in ids)))


TYPES = (
    EventType(
        "webhook.send",
        Kind.ACTION,
        "Send webhook",
        "Call a URL for each contact; only a 2xx answer succeeds, failures are retried "
        "with the same Idempotency-Key.",
        SendWebhook,
        run=send_webhook,
        external=True,
        group="Integrations",
    ),
)
