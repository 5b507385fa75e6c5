/**
 * The personalisation tokens the renderer understands (docs/email.md, "Tokens") and their
 * insertion into text at the caret.
 */

/** A field alias the renderer accepts inside `{contactfield=...}`. */
const ALIAS = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

export const OWNER_FIELDS = [
  { alias: "name", label: "Owner's name" },
  { alias: "first_name", label: "Owner's first name" },
  { alias: "last_name", label: "Owner's last name" },
  { alias: "email", label: "Owner's email" },
] as const;

export const LINK_TOKENS = [
  { token: "{unsubscribe_url}", label: "Unsubscribe link", isUrl: true },
  { token: "{webview_url}", label: "Web view link", isUrl: true },
  { token: "{preferences_url}", label: "Preference centre link", isUrl: true },
  { token: "{date}", label: "Sending date (YYYY-MM-DD)", isUrl: false },
] as const;

export interface TokenChoice {
  /** What is inserted. */
  token: string;
  label: string;
  group: "Contact fields" | "Owner" | "Links and date";
  /** A URL token: in a visual editor it goes in as a link rather than as text. */
  isUrl: boolean;
}

/**
 * `{contactfield=alias|fallback}` (or without `|` when there is no fallback). Braces cannot be
 * in a fallback (the renderer's token ends at the first one), so they are dropped.
 */
export function fieldToken(kind: "contactfield" | "ownerfield", alias: string, fallback = ""): string {
  if (!ALIAS.test(alias)) throw new Error(`"${alias}" is not a field alias.`);
  const clean = fallback.replace(/[{}]/g, "");
  return clean ? `{${kind}=${alias}|${clean}}` : `{${kind}=${alias}}`;
}

/** Every token the picker offers: the instance's contact fields, the owner's, links and date. */
export function tokenChoices(fields: readonly { alias: string; label: string }[]): TokenChoice[] {
  const contact = fields
    .filter((f) => ALIAS.test(f.alias))
    .map((f) => ({
      token: fieldToken("contactfield", f.alias),
      label: f.label || f.alias,
      group: "Contact fields" as const,
      isUrl: false,
    }));
  const owner = OWNER_FIELDS.map((f) => ({
    token: fieldToken("ownerfield", f.alias),
    label: f.label,
    group: "Owner" as const,
    isUrl: false,
  }));
  const links = LINK_TOKENS.map((t) => ({
    token: t.token,
    label: t.label,
    group: "Links and date" as const,
    isUrl: t.isUrl,
  }));
  return [...contact, ...owner, ...links];
}

/** Put a fallback into a field token the picker built (other tokens are returned as they are). */
export function withFallback(token: string, fallback: string): string {
  const m = /^\{(contactfield|ownerfield)=([A-Za-z][A-Za-z0-9_]*)(?:\|[^{}]*)?\}$/.exec(token);
  if (!m) return token;
  return fieldToken(m[1] as "contactfield" | "ownerfield", m[2] ?? "", fallback);
}

export interface Insertion {
  text: string;
  /** Where the caret goes: right after the inserted token. */
  caret: number;
}

/**
 * Replace the selection [start, end) of `text` with `token`. Positions outside the text are
 * clamped, and a reversed selection is put in order, as browsers may report either.
 */
export function insertAt(
  text: string,
  start: number | null | undefined,
  end: number | null | undefined,
  token: string,
): Insertion {
  const clamp = (n: number | null | undefined, fallback: number) => Math.min(Math.max(n ?? fallback, 0), text.length);
  let from = clamp(start, text.length);
  let to = clamp(end, from);
  if (to < from) [from, to] = [to, from];
  return { text: text.slice(0, from) + token + text.slice(to), caret: from + token.length };
}

/** The tokens of a text, in order (for showing what an email personalises). */
export function tokensIn(text: string): string[] {
  const found = text.match(
    /\{(?:contactfield|ownerfield)=[A-Za-z][A-Za-z0-9_]{0,63}(?:\|[^{}]*)?\}|\{(?:unsubscribe_url|webview_url|preferences_url|date)\}/g,
  );
  return found ?? [];
}
