/** Custom headers: the API's list of {name, value} and the editable rows of the form. */
import type { EmailHeader } from "./types";

export interface HeaderRow {
  /** A key for React that stays with the row while its name is edited. */
  key: number;
  name: string;
  value: string;
}

/** Headers Trellis writes itself (the backend's RESERVED_HEADERS): an email cannot set them. */
export const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  "from",
  "to",
  "cc",
  "bcc",
  "subject",
  "date",
  "message-id",
  "reply-to",
  "mime-version",
  "content-type",
  "content-transfer-encoding",
  "list-unsubscribe",
  "list-unsubscribe-post",
  "dkim-signature",
  "return-path",
]);

const NAME = /^[A-Za-z0-9-]{1,76}$/;

let nextKey = 1;

export function newRow(name = "", value = ""): HeaderRow {
  return { key: nextKey++, name, value };
}

export function headersToRows(headers: readonly EmailHeader[]): HeaderRow[] {
  return headers.map((h) => newRow(h.name, h.value));
}

/** The API's list: rows with neither a name nor a value are left out, the rest trimmed. */
export function rowsToHeaders(rows: readonly HeaderRow[]): EmailHeader[] {
  return rows
    .map((r) => ({ name: r.name.trim(), value: r.value.trim() }))
    .filter((h) => h.name !== "" || h.value !== "");
}

/** A header list as one object; a later header of the same name (any case) wins. */
export function headersToObject(headers: readonly EmailHeader[]): Record<string, string> {
  const out: Record<string, string> = {};
  const byLower = new Map<string, string>();
  for (const h of headers) {
    const previous = byLower.get(h.name.toLowerCase());
    if (previous !== undefined) delete out[previous];
    byLower.set(h.name.toLowerCase(), h.name);
    out[h.name] = h.value;
  }
  return out;
}

export function objectToHeaders(object: Readonly<Record<string, string>>): EmailHeader[] {
  return Object.entries(object).map(([name, value]) => ({ name, value }));
}

/**
 * What is wrong with each row, by row key, checked as the server would (so the user sees it
 * before saving): a name made of letters, digits and "-", not one Trellis writes, not twice,
 * and a value on one line.
 */
export function rowErrors(rows: readonly HeaderRow[]): Map<number, string> {
  const errors = new Map<number, string>();
  const seen = new Set<string>();
  for (const row of rows) {
    const name = row.name.trim();
    if (name === "" && row.value.trim() === "") continue;
    if (name === "") errors.set(row.key, "Name the header.");
    else if (!NAME.test(name)) errors.set(row.key, "Letters, digits and - only (at most 76).");
    else if (RESERVED_HEADERS.has(name.toLowerCase())) errors.set(row.key, `${name} is set by Trellis itself.`);
    else if (seen.has(name.toLowerCase())) errors.set(row.key, `${name} is already set above.`);
    else if (/[\r\n]/.test(row.value)) errors.set(row.key, "The value must be on one line.");
    seen.add(name.toLowerCase());
  }
  return errors;
}
