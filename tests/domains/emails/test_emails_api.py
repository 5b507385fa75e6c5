"""Emails over the API: CRUD, validation with lines, the sandbox, preview, test send, the
outbox; rendering of every token; DKIM."""

from __future__ import annotations

import base64
import re
import subprocess
from pathlib import Path
from typing import Any

import dkim
import httpx
import pytest

from tests.domains.campaigns.helpers import contacts
from tests.domains.emails.helpers import MJML, create_email
from tests.fixtures.api import Harness
from tests.fixtures.smtp import SmtpServer
from trellis.domains.emails.links import LinkSigner
from trellis.domains.emails.render import EmailContent, RenderInput, compile_email
from trellis.domains.emails.service import email_service
from trellis.runtime.mailer import DkimSigner, Envelope, OutboxTransport, build_message


def problems(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text
    return list(response.json()["errors"])


async def test_crud_with_versions_and_audit(admin: httpx.AsyncClient) -> None:
    email = await create_email(admin, projects=[])
    assert email["content_version"] == 1
    assert email["text_body"] is None
    renamed = await admin.patch(f"/api/v2/emails/{email['id']}", json={"name": "Renamed"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["content_version"] == 1
    changed = await admin.patch(
        f"/api/v2/emails/{email['id']}",
        json={"subject": "New subject", "text_body": "Plain {contactfield=first_name}"},
        headers={"If-Match": renamed.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["content_version"] == 2
    stale = await admin.patch(
        f"/api/v2/emails/{email['id']}",
        json={"name": "x"},
        headers={"If-Match": renamed.headers["ETag"]},
    )
    assert stale.status_code == 412
    listed = await admin.get("/api/v2/emails", params={"q": "renamed"})
    assert [e["id"] for e in listed.json()["data"]] == [email["id"]]
    audit = await admin.get("/api/v2/audit-log", params={"entity_type": "email"})
    assert audit.status_code == 200
    assert {e["action"] for e in audit.json()["data"]} >= {"create", "update"}
    deleted = await admin.delete(f"/api/v2/emails/{email['id']}")
    assert deleted.status_code == 204
    assert (await admin.get(f"/api/v2/emails/{email['id']}")).status_code == 404


async def test_invalid_mjml_and_template_syntax_name_the_field_and_line(
    admin: httpx.AsyncClient,
) -> None:
    bad_mjml = "<mjml>\n  <mj-body>\n    <mj-section>\n      <mj-colum>\n"
    response = await admin.post(
        "/api/v2/emails", json={"name": "x", "subject": "s", "body": bad_mjml}
    )
    [error] = problems(response)
    assert error["pointer"] == "/body"
    assert error["detail"].startswith("Line 4:")
    bad_jinja = MJML.replace("Hello", "{% if contact.first_name %}Hello")
    [error] = problems(
        await admin.post("/api/v2/emails", json={"name": "x", "subject": "s", "body": bad_jinja})
    )
    assert error["code"] == "template_syntax"
    [error] = problems(
        await admin.post(
            "/api/v2/emails",
            json={"name": "x", "subject": "Hi {{ contact.first_name", "body": MJML},
        )
    )
    assert error["pointer"] == "/subject"
    assert error["detail"].startswith("Line 1:")
    header = await admin.post(
        "/api/v2/emails",
        json={
            "name": "x",
            "subject": "s",
            "body": MJML,
            "headers": [{"name": "List-Unsubscribe", "value": "x"}],
        },
    )
    assert header.status_code == 422


@pytest.mark.parametrize(
    "escape",
    [
        "{{ contact.__class__.__mro__ }}",
        "{{ ''.__class__ }}",
        "{{ contact.items() }}",
        "{{ lipsum.__globals__ }}",
        "{{ cycler }}",
        "{{ contact|attr('__class__') }}",
        "{% include '/etc/passwd' %}",
        "{{ config }}",
    ],
)
async def test_a_template_reaching_outside_the_sandbox_fails_to_save(
    admin: httpx.AsyncClient, escape: str
) -> None:
    body = f"<html><body>\n<p>Hello</p>\n{escape}\n</body></html>"
    errors = problems(
        await admin.post(
            "/api/v2/emails",
            json={"name": "x", "subject": "s", "body_format": "html", "body": body},
        )
    )
    assert errors[0]["pointer"] == "/body"
    assert errors[0]["detail"].startswith("Line 3:")
    mjml_include = '<mjml><mj-body><mj-include path="/etc/passwd" /></mj-body></mjml>'
    assert problems(
        await admin.post("/api/v2/emails", json={"name": "x", "subject": "s", "body": mjml_include})
    )


def test_every_token_renders() -> None:
    body = (
        "<html><head><style>p { color: #123456; }</style></head><body>"
        "<p>{contactfield=first_name|friend} {contactfield=city|nowhere} "
        "{contactfield=points} {ownerfield=name} {date}</p>"
        '<a href="{unsubscribe_url}">u</a> <a href="{webview_url}">w</a> '
        '<a href="{preferences_url}">p</a> '
        '<a href="https://x.test/?e={contactfield=email}">link</a>'
        "{% if contact.points > 10 %}<b>VIP</b>{% endif %}"
        "</body></html>"
    )
    compiled = compile_email(
        EmailContent(
            subject="For {contactfield=first_name|you}",
            preheader="Only {contactfield=first_name}",
            body=body,
            body_format="html",
            text_body=None,
        )
    )
    rendered = compiled.render(
        RenderInput(
            contact={"first_name": "Tom & <Jerry>", "points": 0, "email": "t+1@x.test"},
            owner={"name": "Grace"},
            unsubscribe_url="https://t.test/t/unsubscribe/a",
            webview_url="https://t.test/t/view/b",
            preferences_url="https://t.test/t/preferences/c",
            date="2026-03-02",
        )
    )
    assert rendered.subject == "For Tom & <Jerry>"
    assert "Tom &amp; &lt;Jerry&gt; nowhere 0 Grace 2026-03-02" in rendered.html
    assert 'style="color: #123456' in rendered.html  # inlined
    assert "Only Tom &amp; &lt;Jerry&gt;" in rendered.html  # the preheader
    for url in ("t/unsubscribe/a", "t/view/b", "t/preferences/c"):
        assert f'href="https://t.test/{url}"' in rendered.html
    assert rendered.links == ["https://x.test/?e=t%2B1%40x.test"]
    assert "VIP" not in rendered.html
    assert "Tom & <Jerry> nowhere 0 Grace 2026-03-02" in rendered.text
    assert "link (https://x.test/?e=t%2B1%40x.test)" in rendered.text


def test_signed_links_refuse_forgeries() -> None:
    signer = LinkSigner(b"k" * 32, "https://m.test")
    token = signer.token("u", 12345)
    assert signer.verify("u", token) == 12345
    assert signer.verify("w", token) is None
    assert signer.verify("u", token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert signer.verify("u", "9iy." + token.split(".")[1]) is None
    assert LinkSigner(b"other", "https://m.test").verify("u", token) is None


async def test_preview_and_test_send(
    harness: Harness, admin: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    email = await create_email(admin)
    [ada] = await contacts(admin, {"email": "ada@example.com", "first_name": "Ada"})
    preview = await admin.post(f"/api/v2/emails/{email['id']}/preview", json={"contact_id": ada})
    assert preview.status_code == 200, preview.text
    assert preview.json()["subject"] == "Hi Ada"
    assert "Hello Ada," in preview.json()["html"]
    sample = await admin.post(f"/api/v2/emails/{email['id']}/preview", json={})
    assert "Hello Ada," in sample.json()["html"]
    missing = await admin.post(f"/api/v2/emails/{email['id']}/preview", json={"contact_id": 999999})
    assert missing.status_code == 422
    sent = await admin.post(f"/api/v2/emails/{email['id']}/test-send", json={"contact_id": ada})
    assert sent.status_code == 200, sent.text
    assert sent.json()["status"] == "sent"
    [received] = smtp_server.to("admin@example.com")
    assert received.message["Subject"] == "Hi Ada"
    assert smtp_server.to("ada@example.com") == []


async def test_the_outbox_keeps_what_would_have_gone_out(
    harness: Harness, admin: httpx.AsyncClient, smtp_server: SmtpServer
) -> None:
    previous = email_service.policy.transport
    email_service.policy.transport = OutboxTransport()
    try:
        email = await create_email(admin)
        sent = await admin.post(f"/api/v2/emails/{email['id']}/test-send", json={})
        assert sent.json()["status"] == "sent"
    finally:
        email_service.policy.transport = previous
    assert smtp_server.received == []
    listed = await admin.get("/api/v2/outbox")
    [item] = listed.json()["data"]
    assert item["recipients"] == ["admin@example.com"]
    assert item["message_id"] == sent.json()["message_id"]
    # Searching finds a message by its recipient too.
    by_recipient = await admin.get("/api/v2/outbox", params={"q": "ADMIN@example"})
    assert [m["id"] for m in by_recipient.json()["data"]] == [item["id"]]
    assert (await admin.get("/api/v2/outbox", params={"q": "nobody@"})).json()["data"] == []
    full = await admin.get(f"/api/v2/outbox/{item['id']}")
    raw = full.json()["raw"]
    assert f"Message-ID: {item['message_id']}" in raw
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in raw
    assert (await admin.get("/api/v2/outbox/999")).status_code == 404


def test_dkim_signature_verifies(tmp_path: Path) -> None:
    key = tmp_path / "dkim.pem"
    subprocess.run(
        ["openssl", "genrsa", "-traditional", "-out", str(key), "2048"],
        check=True,
        capture_output=True,
    )
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    signer = DkimSigner.from_file("s1", "trellis.test", key)
    raw = build_message(
        Envelope(
            message_id="<1@trellis.test>",
            from_address="news@trellis.test",
            to_address="ada@example.com",
            subject="Grüße",
            list_unsubscribe_url="https://t.test/t/unsubscribe/x",
            list_unsubscribe_mailto="unsubscribe@trellis.test",
        ),
        html="<p>Hi</p>",
        text="Hi",
    )
    signed = signer.sign(raw)
    assert signed.startswith(b"DKIM-Signature:")
    assert re.search(rb"h=[^;]*list-unsubscribe", signed.replace(b"\r\n\t", b""))

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"s1._domainkey.trellis.test."
        return record

    assert dkim.verify(signed, dnsfunc=dns)
    assert not dkim.verify(signed.replace(b"Hi</p>", b"Bye</p>"), dnsfunc=dns)


async def test_search_takes_percent_and_underscore_literally(admin: httpx.AsyncClient) -> None:
    for name in ("50% off", "500 off", "a_b", "axb"):
        created = await admin.post(
            "/api/v2/emails",
            json={"name": name, "subject": "Hi", "body": "<p>Hi</p>", "body_format": "html"},
        )
        assert created.status_code == 201, created.text
    percent = (await admin.get("/api/v2/emails", params={"q": "50%"})).json()["data"]
    assert [e["name"] for e in percent] == ["50% off"]
    underscore = (await admin.get("/api/v2/emails", params={"q": "a_b"})).json()["data"]
    assert [e["name"] for e in underscore] == ["a_b"]
