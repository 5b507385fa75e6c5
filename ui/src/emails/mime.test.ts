import { describe, expect, it } from "vitest";
import { decodeHeaderValue, decodeQuotedPrintable, parseMessage } from "./mime";

// The shape build_message writes: multipart/alternative, quoted-printable UTF-8 parts, CRLF.
const RAW = [
  "Message-ID: <abc@example.com>",
  "From: Trellis <noreply@example.com>",
  "To: ada@example.com",
  "Subject: =?utf-8?q?Caf=C3=A9_news?=",
  "List-Unsubscribe: <https://t.example.com/t/unsubscribe/xyz>,",
  " <mailto:unsub@example.com>",
  "MIME-Version: 1.0",
  'Content-Type: multipart/alternative; boundary="=_t123"',
  "",
  "--=_t123",
  "Content-Type: text/plain; charset=utf-8",
  "Content-Transfer-Encoding: quoted-printable",
  "",
  "Hello Ada, caf=C3=A9 is =",
  "open.",
  "--=_t123",
  "Content-Type: text/html; charset=utf-8",
  "Content-Transfer-Encoding: quoted-printable",
  "",
  '<p style=3D"color:red">Hello <b>Ada</b></p>',
  "--=_t123--",
  "",
].join("\r\n");

describe("parseMessage", () => {
  it("reads unfolded, decoded headers", () => {
    const m = parseMessage(RAW);
    expect(m.headers.find((h) => h.name === "Subject")?.value).toBe("Café news");
    expect(m.headers.find((h) => h.name === "List-Unsubscribe")?.value).toBe(
      "<https://t.example.com/t/unsubscribe/xyz>, <mailto:unsub@example.com>",
    );
  });
  it("decodes the text and HTML parts", () => {
    const m = parseMessage(RAW);
    expect(m.text).toBe("Hello Ada, café is open.");
    expect(m.html).toBe('<p style="color:red">Hello <b>Ada</b></p>');
    expect(m.parts.map((p) => p.contentType)).toEqual(["text/plain", "text/html"]);
  });
  it("reads a single-part base64 message", () => {
    const raw =
      "Subject: x\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64\n\n" + btoa("<p>Hi</p>");
    const m = parseMessage(raw);
    expect(m.html).toBe("<p>Hi</p>");
    expect(m.text).toBeNull();
  });
  it("finds parts inside nested multiparts", () => {
    const raw = [
      'Content-Type: multipart/mixed; boundary="outer"',
      "",
      "--outer",
      'Content-Type: multipart/alternative; boundary="inner"',
      "",
      "--inner",
      "Content-Type: text/plain",
      "",
      "plain",
      "--inner--",
      "--outer--",
    ].join("\n");
    expect(parseMessage(raw).text).toBe("plain");
  });
});

describe("decoding", () => {
  it("decodes quoted-printable bytes as UTF-8", () => {
    expect(decodeQuotedPrintable("na=C3=AFve =3D ok")).toBe("naïve = ok");
  });
  it("decodes adjacent encoded words without the space between them", () => {
    expect(decodeHeaderValue("=?utf-8?b?SGVs?= =?utf-8?b?bG8=?= world")).toBe("Hello world");
  });
});
