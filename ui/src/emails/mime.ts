/**
 * A small reader of the RFC 5322 / MIME messages the outbox keeps: headers (unfolded, RFC 2047
 * words decoded) and the plain-text and HTML parts of a (nested) multipart message, with
 * quoted-printable and base64 bodies decoded in their charset.
 */

export interface MessageHeader {
  name: string;
  value: string;
}

export interface MessagePart {
  contentType: string;
  charset: string;
  body: string;
}

export interface ParsedMessage {
  headers: MessageHeader[];
  /** The first text/plain part (or the body of a text/plain message), else null. */
  text: string | null;
  /** The first text/html part, else null. */
  html: string | null;
  /** Every leaf part, in order. */
  parts: MessagePart[];
}

/** Split at the first empty line: the head, and the rest. */
function splitHead(raw: string): [string, string] {
  const m = /\r?\n\r?\n/.exec(raw);
  if (!m) return [raw, ""];
  return [raw.slice(0, m.index), raw.slice(m.index + m[0].length)];
}

function bytesToText(bytes: Uint8Array, charset: string): string {
  try {
    return new TextDecoder(charset || "utf-8").decode(bytes);
  } catch {
    // An unknown charset: UTF-8 is the best guess for what Trellis writes.
    return new TextDecoder("utf-8").decode(bytes);
  }
}

function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** Quoted-printable (RFC 2045 6.7); `header` also reads "_" as a space (RFC 2047 Q). */
export function decodeQuotedPrintable(input: string, charset = "utf-8", header = false): string {
  const text = header ? input.replace(/_/g, " ") : input.replace(/=\r?\n/g, "");
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] ?? "";
    const hex = text.slice(i + 1, i + 3);
    if (ch === "=" && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      for (const b of encoder.encode(ch)) bytes.push(b);
    }
  }
  return bytesToText(Uint8Array.from(bytes), charset);
}

export function decodeBase64(input: string, charset = "utf-8"): string {
  const clean = input.replace(/[^A-Za-z0-9+/=]/g, "");
  try {
    return bytesToText(latin1Bytes(atob(clean)), charset);
  } catch {
    return input;
  }
}

/** RFC 2047 encoded words; whitespace between two adjacent words is dropped, as the RFC says. */
export function decodeHeaderValue(value: string): string {
  const word = /=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g;
  return value
    .replace(/(=\?[^?]+\?[BbQq]\?[^?]*\?=)\s+(?==\?[^?]+\?[BbQq]\?[^?]*\?=)/g, "$1")
    .replace(word, (_all, charset: string, enc: string, text: string) =>
      enc.toUpperCase() === "B" ? decodeBase64(text, charset) : decodeQuotedPrintable(text, charset, true),
    );
}

export function parseHeaders(head: string): MessageHeader[] {
  const headers: MessageHeader[] = [];
  for (const line of head.split(/\r?\n/)) {
    const last = headers[headers.length - 1];
    if (/^[ \t]/.test(line) && last) {
      last.value += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    headers.push({ name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() });
  }
  return headers.map((h) => ({ name: h.name, value: decodeHeaderValue(h.value) }));
}

export function headerValue(headers: readonly MessageHeader[], name: string): string | undefined {
  const lower = name.toLowerCase();
  return headers.find((h) => h.name.toLowerCase() === lower)?.value;
}

/** `text/html; charset="utf-8"` -> ["text/html", {charset: "utf-8"}]. */
export function parseContentType(value: string | undefined): [string, Record<string, string>] {
  if (!value) return ["text/plain", {}];
  const [type = "text/plain", ...rest] = value.split(";");
  const params: Record<string, string> = {};
  for (const p of rest) {
    const eq = p.indexOf("=");
    if (eq < 0) continue;
    params[p.slice(0, eq).trim().toLowerCase()] = p
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, "$1");
  }
  return [type.trim().toLowerCase(), params];
}

function leafParts(headers: MessageHeader[], body: string, depth: number): MessagePart[] {
  const [type, params] = parseContentType(headerValue(headers, "Content-Type"));
  if (type.startsWith("multipart/") && params.boundary && depth < 10) {
    const marker = `--${params.boundary}`;
    const chunks = body.split(new RegExp(`\\r?\\n?${escapeRegExp(marker)}`));
    const parts: MessagePart[] = [];
    // chunks[0] is the preamble; a chunk starting with "--" is the closing delimiter's epilogue.
    for (const chunk of chunks.slice(1)) {
      if (chunk.startsWith("--")) break;
      const [head, partBody] = splitHead(chunk.replace(/^[ \t]*\r?\n/, ""));
      parts.push(...leafParts(parseHeaders(head), partBody, depth + 1));
    }
    return parts;
  }
  const charset = params.charset ?? "utf-8";
  const encoding = (headerValue(headers, "Content-Transfer-Encoding") ?? "7bit").toLowerCase();
  const decoded =
    encoding === "quoted-printable"
      ? decodeQuotedPrintable(body, charset)
      : encoding === "base64"
        ? decodeBase64(body, charset)
        : body;
  return [{ contentType: type, charset, body: decoded }];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export function parseMessage(raw: string): ParsedMessage {
  const [head, body] = splitHead(raw);
  const headers = parseHeaders(head);
  const parts = leafParts(headers, body, 0);
  return {
    headers,
    text: parts.find((p) => p.contentType === "text/plain")?.body ?? null,
    html: parts.find((p) => p.contentType === "text/html")?.body ?? null,
    parts,
  };
}
