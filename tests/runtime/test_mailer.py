"""Messages as built for the wire, read back with the standard library's parser: headers,
both parts, non-ASCII text, line lengths, and bodies encoded piece by piece."""

from __future__ import annotations

import email
import email.policy
import quopri
import random
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from trellis.runtime.mailer import Envelope, QuotedPrintable, UnsafeHeader, build_message

DATE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _parse(raw: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _envelope(**changes: object) -> Envelope:
    values: dict[str, object] = {
        "message_id": "<3f2a9c@news.example.com>",
        "from_address": "news@example.com",
        "from_name": "Élodie de l\u2019Équipe",
        "to_address": "zoe@example.com",
        "to_name": "Zoë Ångström",
        "subject": "Grüße, Zoë: ünsere Früh­lings­kollektion ist da und wartet auf dich 🌸",
        "reply_to": "help@example.com",
        "date": DATE,
        "list_unsubscribe_url": "https://mail.example.com/t/unsubscribe/1b.JKG_2xgv8b8B60EPIe9u",
        "list_unsubscribe_mailto": "unsubscribe@example.com?subject=unsubscribe%201b.JKG",
        "language": "de",
        "headers": [("X-Campaign", "Frühling"), ("X-Trellis-Email", "4")],
    }
    values.update(changes)
    return Envelope(**values)  # type: ignore[arg-type]


HTML = (
    "<html><body>\n<p>Hallo Zoë,</p>\n"
    + "<p>"
    + "x" * 300
    + "</p>\n"
    + ".a line that starts with a dot\nFrom the start of a line\n"
    + "trailing spaces   \ntabs\t\n= signs = 3D\n"
    + '<a href="https://shop.example.com/?a=1&amp;b=2">Shop</a>\n</body></html>\n'
)
TEXT = "Hallo Zoë,\n\nShop (https://shop.example.com/?a=1&b=2)\n.dot\n"


def test_every_header_reads_back_with_non_ascii_round_tripped() -> None:
    raw = build_message(_envelope(), html=HTML, text=TEXT)
    message = _parse(raw)
    assert message["Message-ID"] == "<3f2a9c@news.example.com>"
    assert message["Date"].datetime == DATE
    assert message["From"].addresses[0].display_name == "Élodie de l\u2019Équipe"
    assert message["From"].addresses[0].addr_spec == "news@example.com"
    assert message["To"].addresses[0].display_name == "Zoë Ångström"
    assert message["Subject"] == _envelope().subject
    assert message["Reply-To"] == "help@example.com"
    assert message["Content-Language"] == "de"
    assert message["X-Campaign"] == "Frühling"
    assert message["X-Trellis-Email"] == "4"
    assert message["MIME-Version"] == "1.0"
    unsubscribe = " ".join(message["List-Unsubscribe"].split())
    assert unsubscribe == (
        "<https://mail.example.com/t/unsubscribe/1b.JKG_2xgv8b8B60EPIe9u>, "
        "<mailto:unsubscribe@example.com?subject=unsubscribe%201b.JKG>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Headers are 7-bit (non-ASCII as encoded words); the subject is folded to 78
    # characters, and no line comes near RFC 5322's 998.
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    lines = head.split(b"\r\n")
    subject = lines.index(next(line for line in lines if line.startswith(b"Subject:")))
    assert len(lines[subject]) <= 78
    assert lines[subject + 1].startswith(b" ")
    assert len(lines[subject + 1]) <= 78
    assert max(len(line) for line in lines) <= 998


@pytest.mark.parametrize(
    ("field", "value", "header"),
    [
        ("from_name", "Marketing\r\nBcc: victim@evil.example", "From"),
        ("from_name", "Marketing\nBcc: victim@evil.example", "From"),
        ("from_address", "news@example.com\r\nBcc: victim@evil.example", "From"),
        ("to_name", "Zoë\rBcc: victim@evil.example", "To"),
        ("to_address", "zoe@example.com\nBcc: victim@evil.example", "To"),
        ("subject", "Hi\r\nBcc: everyone@example.com", "Subject"),
        ("subject", "Hi\x00there", "Subject"),
        ("subject", "Hi\x1b[31m", "Subject"),
        ("reply_to", "help@example.com\r\nBcc: victim@evil.example", "Reply-To"),
        ("language", "de\r\nBcc: victim@evil.example", "Content-Language"),
        ("list_unsubscribe_url", "https://x.example/\r\nBcc: v@evil.example", "List-Unsubscribe"),
        ("headers", [("X-A", "1\nBcc: victim@evil.example")], "X-A"),
        ("headers", [("X-A", "1\x7f")], "X-A"),
        ("headers", [("Bcc: victim@evil.example\r\nX-A", "1")], "Bcc"),
    ],
)
def test_the_mailer_refuses_a_header_value_that_would_add_a_header(
    field: str, value: object, header: str
) -> None:
    with pytest.raises(UnsafeHeader, match="line break or a control character") as refused:
        build_message(_envelope(**{field: value}), html=HTML, text=TEXT)
    assert header in refused.value.header


def test_a_tab_in_a_header_value_is_white_space_not_a_refusal() -> None:
    raw = build_message(_envelope(subject="Spring\tsale"), html=HTML, text=TEXT)
    assert _parse(raw)["Subject"] == "Spring\tsale"


def test_the_body_is_multipart_alternative_text_then_html() -> None:
    raw = build_message(_envelope(), html=HTML, text=TEXT)
    message = _parse(raw)
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert all(p["Content-Transfer-Encoding"] == "quoted-printable" for p in parts)
    assert all(p.get_content_charset() == "utf-8" for p in parts)
    assert parts[0].get_content().replace("\r\n", "\n") == TEXT
    assert parts[1].get_content().replace("\r\n", "\n") == HTML
    assert raw.isascii()
    assert b"\n" not in raw.replace(b"\r\n", b"")
    body = raw.split(b"\r\n\r\n", 1)[1]
    assert max(len(line) for line in body.split(b"\r\n")) <= 76


def test_a_message_without_unsubscribe_links_has_no_list_headers() -> None:
    raw = build_message(
        _envelope(list_unsubscribe_url=None, list_unsubscribe_mailto=None), html=HTML, text=TEXT
    )
    message = _parse(raw)
    assert message["List-Unsubscribe"] is None
    assert message["List-Unsubscribe-Post"] is None


def _decode(data: bytes) -> str:
    return quopri.decodestring(data.replace(b"\r\n", b"\n")).decode("utf-8")


@pytest.mark.parametrize("seed", range(20))
def test_pieces_encoded_apart_decode_to_the_whole(seed: int) -> None:
    rng = random.Random(seed)
    alphabet = "abc xyz=.\t\n€ëé🌸<>\"'" + "q" * 20
    literals = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 400))) for _ in range(6)]
    encoder = QuotedPrintable(literals)
    pieces = []
    for _ in range(rng.randint(1, 30)):
        if rng.random() < 0.5:
            pieces.append(rng.choice(literals))
        else:
            pieces.append("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 120))))
    encoded = encoder.encode(pieces)
    assert _decode(encoded) == "".join(pieces)
    lines = encoded.split(b"\r\n")
    assert max(len(line) for line in lines) <= 76
    # Whitespace never ends a line: a transport may strip it.
    assert not any(line.endswith((b" ", b"\t")) for line in lines)
    assert b"\n" not in encoded.replace(b"\r\n", b"")


def test_the_pre_encoded_html_is_what_goes_out() -> None:
    pieces = ["<p>Hallo ", "Zoë", ",</p>\n<p>", "y" * 200, "</p>\n"]
    encoder = QuotedPrintable(pieces[::2])
    raw = build_message(
        _envelope(), html="".join(pieces), text=TEXT, html_qp=encoder.encode(pieces)
    )
    html = list(_parse(raw).iter_parts())[1].get_content()
    assert html.replace("\r\n", "\n") == "".join(pieces)


def test_an_internationalised_domain_is_written_as_idna_in_the_headers() -> None:
    raw = build_message(
        _envelope(from_address="news@bücher.example", to_address="zoe@Bücher.example"),
        html=HTML,
        text=TEXT,
    )
    assert raw.split(b"\r\n\r\n", 1)[0].isascii()
    message = _parse(raw)
    assert message["From"].addresses[0].addr_spec == "news@xn--bcher-kva.example"
    assert message["To"].addresses[0].addr_spec == "zoe@xn--bcher-kva.example"
