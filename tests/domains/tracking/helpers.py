"""A campaign that sends through the outbox, and the links of the stored message."""

from __future__ import annotations

import email
import email.policy
import html
import re
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.domains.campaigns.helpers import campaign, edge, step, trigger
from tests.domains.emails.helpers import deliver
from tests.fixtures.api import Harness


async def flush(harness: Harness) -> None:
    """Write the buffered hits now instead of within the next 200 ms."""
    await harness.app.state.tracking_hits.flush()


async def send_campaign(
    harness: Harness,
    admin: httpx.AsyncClient,
    email_id: int,
    people: list[int],
    *,
    after: list[tuple[str, dict[str, Any], str]] = (),  # type: ignore[assignment]
) -> dict[str, Any]:
    """email.send, then each (decision type, config, tag) as decision -> yes: add the tag."""
    send = step("email.send", {"email_id": email_id}, name="Send")
    events = [send]
    edges = [edge(None, send)]
    for kind, config, tag in after:
        decision = step(kind, config, name=kind)
        tagging = step("contact.change_tags", {"add": [tag]}, name=f"tag {tag}")
        events += [decision, tagging]
        edges += [edge(send, decision), edge(decision, tagging, "yes")]
    body = await campaign(admin, events=events, edges=edges)
    added = await admin.post(
        f"/api/v2/campaigns/{body['id']}/members", json={"contact_ids": people}
    )
    assert added.status_code == 200, added.text
    await trigger(harness)
    await deliver(harness)
    return body


async def message_to(admin: httpx.AsyncClient, address: str) -> EmailMessage:
    listed = await admin.get("/api/v2/outbox", params={"page[size]": 500})
    assert listed.status_code == 200, listed.text
    found = [m for m in listed.json()["data"] if address in m["recipients"]]
    assert found, f"no message to {address}"
    raw = await admin.get(f"/api/v2/outbox/{found[0]['id']}")
    assert raw.status_code == 200, raw.text
    text = (
        raw.json()["raw"]
        if raw.headers["content-type"].startswith("application/json")
        else raw.text
    )
    parsed = email.message_from_string(text, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def html_of(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def tracked_links(message: EmailMessage) -> dict[str, str]:
    """href of every link and image in the HTML part, by kind: click links by target URL,
    the open pixel as 'open'."""
    body = html_of(message)
    found: dict[str, str] = {}
    for href in re.findall(r'href="([^"]+)"', body):
        url = html.unescape(href)
        if "/t/click/" in url:
            target = dict(p.split("=", 1) for p in urlsplit(url).query.split("&"))["u"]
            from urllib.parse import unquote

            found[unquote(target)] = url
        elif "/t/" in url:
            found[urlsplit(url).path.split("/")[2]] = url
    for src in re.findall(r'<img src="([^"]+/t/open/[^"]+)"', body):
        found["open"] = html.unescape(src)
    return found


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
