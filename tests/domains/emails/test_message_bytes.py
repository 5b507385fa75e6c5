"""What delivery puts on the wire for a compiled email, read back with the standard library,
and the signed links, which must stay those of earlier releases."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage

from trellis.domains.emails.links import LinkSigner
from trellis.domains.emails.render import EmailContent, RenderInput, compile_email
from trellis.runtime.mailer import Envelope, build_message

MJML = """<mjml>
  <mj-body>
    <mj-section>
      <mj-column>
        <mj-text>Hallo {contactfield=first_name|du}, aus {contactfield=city|deiner Stadt}!</mj-text>
        <mj-text>{% if contact.points > 10 %}Gold-Mitglied{% else %}Mitglied{% endif %}</mj-text>
        <mj-button href="https://shop.example.com/früh?q={contactfield=city}">Zum Shop</mj-button>
        <mj-text><a href="{unsubscribe_url}">Abmelden</a></mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>"""


def test_released_link_tokens_still_verify() -> None:
    # Tokens as earlier releases signed them (hmac.new(...).digest()), in messages already out.
    signer = LinkSigner(b"benchmark-secret", "https://mail.example.com/")
    assert signer.token("c", 777, "https://shop.example.com/spring") == "ll.nlAud09nsL7h3t7DZgCG"
    assert signer.token("o", 777) == "ll.q0g1xxr5QB2o_o-A0Ztb"
    assert signer.verify("u", "ll.tHtcW6AgCqIva5keYfuz") == 777
    assert signer.verify("w", "ll.tHtcW6AgCqIva5keYfuz") is None
    links = signer.links_for(1, mailto_address="u@x.org")
    assert links.unsubscribe_url == "https://mail.example.com/t/unsubscribe/1.JKG_2xgv8b8B60EPIe9u"
    assert links.webview_url == "https://mail.example.com/t/view/1.npyBH5LzyX0VJuT3aOPf"
    assert links.preferences_url == "https://mail.example.com/t/preferences/1.hpW_bhzkOmd342Zy51uo"
    assert links.unsubscribe_mailto == "u@x.org?subject=unsubscribe%201.JKG_2xgv8b8B60EPIe9u"


def _render(contact: dict[str, object]) -> tuple[bytes, str, str, str]:
    compiled = compile_email(
        EmailContent(
            subject="Grüße, {contactfield=first_name|du}!",
            preheader="Neu: {contactfield=city}",
            body=MJML,
            body_format="mjml",
            text_body=None,
            utm=(("source", "trellis"),),
        )
    )
    links = LinkSigner(b"k", "https://mail.example.com").links_for(5, mailto_address="u@x.org")
    rendered = compiled.render(
        RenderInput(
            contact=contact,
            owner={},
            unsubscribe_url=links.unsubscribe_url,
            webview_url=links.webview_url,
            preferences_url=links.preferences_url,
            date="2026-03-02",
        ),
        send_id=5,
    )
    assert "".join(rendered.html_parts) == rendered.html
    raw = build_message(
        Envelope(
            message_id="<5@mail.example.com>",
            from_address="news@example.com",
            to_address="zoe@example.com",
            subject=rendered.subject,
            date=datetime(2026, 3, 2, tzinfo=UTC),
            list_unsubscribe_url=links.unsubscribe_url,
            list_unsubscribe_mailto=links.unsubscribe_mailto,
        ),
        html=rendered.html,
        text=rendered.text,
        html_qp=compiled.html_encoder.encode(rendered.html_parts),
    )
    return raw, rendered.subject, rendered.html, rendered.text


def test_a_personalised_message_reads_back_exactly_as_rendered() -> None:
    for contact in (
        {"first_name": "Zoë", "city": "Köln <Süd> & Co", "points": 50},
        {"first_name": "Ada " * 40, "city": "=3D.", "points": 1},
        {},
    ):
        raw, subject, html, text = _render(contact)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        assert message["Subject"] == subject
        text_part, html_part = message.iter_parts()
        assert html_part.get_content().replace("\r\n", "\n") == html
        assert text_part.get_content().replace("\r\n", "\n") == text
        body = raw.split(b"\r\n\r\n", 1)[1]
        assert max(len(line) for line in body.split(b"\r\n")) <= 76
    raw, subject, html, _ = _render({"first_name": "Zoë", "city": "Köln <Süd> & Co", "points": 50})
    assert subject == "Grüße, Zoë!"
    assert "Hallo Zoë, aus Köln &lt;Süd&gt; &amp; Co!" in html
    assert "Gold-Mitglied" in html
    assert "q=K%C3%B6ln%20%3CS%C3%BCd%3E%20%26%20Co" in html
