"""Issue 15, finding 7: a line break in a header field put a real Bcc into the sent message.
The API refuses every header field with a line break or a control character (422 naming the
field), and the mailer refuses to build such a message from data that reached the database
some other way."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.domains.campaigns.helpers import campaign, contacts, edge, step, trigger
from tests.domains.emails.helpers import MJML, create_email, deliver, sends
from tests.fixtures.api import Harness
from tests.fixtures.smtp import SmtpServer

INJECTION = "\r\nBcc: victim@evil.example"


def _body(**fields: Any) -> dict[str, Any]:
    return {"name": "Spring", "subject": "Hello", "body": MJML, **fields}


@pytest.mark.parametrize(
    ("fields", "pointer"),
    [
        ({"from_name": "Marketing" + INJECTION}, "/from_name"),
        ({"from_name": "Marketing\nBcc: victim@evil.example"}, "/from_name"),
        ({"from_name": "Marketing\x0bX"}, "/from_name"),
        ({"from_address": "news@example.com" + INJECTION}, "/from_address"),
        ({"from_address": "news@exam\x01ple.com"}, "/from_address"),
        ({"reply_to": "help@example.com" + INJECTION}, "/reply_to"),
        ({"subject": "Hello" + INJECTION}, "/subject"),
        ({"subject": "Hello\x00"}, "/subject"),
        ({"subject": "Hello\x1b[2J"}, "/subject"),
        ({"headers": [{"name": "X-Tag", "value": "a" + INJECTION}]}, "/headers/0/value"),
        ({"headers": [{"name": "X-Tag", "value": "a\x7f"}]}, "/headers/0/value"),
        ({"headers": [{"name": "X-Tag\r\nBcc", "value": "a"}]}, "/headers/0/name"),
    ],
)
async def test_the_api_refuses_a_line_break_or_control_character_in_a_header_field(
    admin: httpx.AsyncClient, fields: dict[str, Any], pointer: str
) -> None:
    created = await admin.post("/api/v2/emails", json=_body(**fields))
    assert created.status_code == 422, created.text
    assert created.headers["content-type"].startswith("application/problem+json")
    assert pointer in [error["pointer"] for error in created.json()["errors"]]

    email = await create_email(admin)
    changed = await admin.patch(f"/api/v2/emails/{email['id']}", json=fields)
    assert changed.status_code == 422, changed.text
    assert pointer in [error["pointer"] for error in changed.json()["errors"]]
    unchanged = (await admin.get(f"/api/v2/emails/{email['id']}")).json()
    assert unchanged["from_name"] == email["from_name"]
    assert unchanged["subject"] == email["subject"]
    assert unchanged["headers"] == email["headers"]
    listed = await admin.get("/api/v2/emails")
    assert [e["id"] for e in listed.json()["data"]] == [email["id"]]


async def test_a_tab_is_white_space_and_is_kept(admin: httpx.AsyncClient) -> None:
    email = await create_email(admin, from_name="Shop\tNews")
    assert email["from_name"] == "Shop\tNews"


async def test_the_mailer_refuses_an_injected_header_that_bypassed_the_api(
    harness: Harness, admin: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    injected = await create_email(admin, name="Injected")
    clean = await create_email(admin, name="Clean")
    async with harness.database.engine.begin() as connection:
        # As a hand-edited database or an old row would have it: past the API's check.
        await connection.execute(
            text("UPDATE emails SET from_name = :name WHERE id = :id"),
            {"name": "Marketing" + INJECTION, "id": injected["id"]},
        )
    [ada, bob] = await contacts(admin, {"email": "ada@example.com"}, {"email": "bob@example.com"})
    first = step("email.send", {"email_id": injected["id"]}, name="Injected")
    second = step("email.send", {"email_id": clean["id"]}, name="Clean")
    body = await campaign(
        admin, events=[first, second], edges=[edge(None, first), edge(None, second)]
    )
    added = await admin.post(
        f"/api/v2/campaigns/{body['id']}/members", json={"contact_ids": [ada, bob]}
    )
    assert added.status_code == 200, added.text
    await trigger(harness)
    await deliver(harness)

    refused = await sends(admin, injected["id"])
    assert [row["status"] for row in refused] == ["failed", "failed"]
    assert all("From header contains a line break" in row["reason"] for row in refused)
    delivered = await sends(admin, clean["id"])
    assert [row["status"] for row in delivered] == ["sent", "sent"]
    assert len(smtp_server.received) == 2
    for received in smtp_server.received:
        assert received.recipients in (["ada@example.com"], ["bob@example.com"])
        assert received.message["Bcc"] is None
        assert b"victim@evil.example" not in received.raw
