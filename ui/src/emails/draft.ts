/** The email editor's form state, and the API bodies it turns into. */
import { pointerTokens, type ProblemFieldError } from "../api/problem";
import { headersToRows, rowsToHeaders, type HeaderRow } from "./headers";
import type { BodyFormat, Email, EmailCreate, EmailKind, EmailUpdate, Utm } from "./types";

/** Form field names, as problemToFormErrors derives them from the API's pointers. */
export const FORM_FIELDS = [
  "name",
  "kind",
  "subject",
  "preheader",
  "from_name",
  "from_address",
  "reply_to",
  "headers",
  "body_format",
  "body",
  "text_body",
  "language",
  "utm.source",
  "utm.medium",
  "utm.campaign",
  "utm.content",
  "utm",
  "is_published",
  "projects",
] as const;

export interface EmailDraft {
  name: string;
  kind: EmailKind;
  subject: string;
  preheader: string;
  from_name: string;
  from_address: string;
  reply_to: string;
  headers: HeaderRow[];
  body_format: BodyFormat;
  body: string;
  /** "generated": the server derives the plain text from the HTML; "custom": `text_body` as typed. */
  text_mode: "generated" | "custom";
  text_body: string;
  language: string;
  utm: Utm;
  is_published: boolean;
  projects: number[];
}

export const STARTER_MJML = `<mjml>
  <mj-body background-color="#f4f4f4">
    <mj-section background-color="#ffffff" padding="24px">
      <mj-column>
        <mj-text font-size="20px" font-family="Helvetica, Arial, sans-serif">Hello {contactfield=first_name|there},</mj-text>
        <mj-text font-family="Helvetica, Arial, sans-serif">Write your message here.</mj-text>
        <mj-button href="https://example.com" background-color="#0f62fe">Read more</mj-button>
      </mj-column>
    </mj-section>
    <mj-section padding="12px">
      <mj-column>
        <mj-text font-size="11px" color="#6f6f6f" align="center" font-family="Helvetica, Arial, sans-serif"><a href="{webview_url}">View in your browser</a> · <a href="{preferences_url}">Preferences</a> · <a href="{unsubscribe_url}">Unsubscribe</a></mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>
`;

export const STARTER_HTML = `<!doctype html>
<html>
  <body style="font-family: Helvetica, Arial, sans-serif">
    <p>Hello {contactfield=first_name|there},</p>
    <p>Write your message here.</p>
    <p style="font-size: 11px; color: #6f6f6f"><a href="{unsubscribe_url}">Unsubscribe</a></p>
  </body>
</html>
`;

export const EMPTY_UTM: Utm = { source: "", medium: "", campaign: "", content: "" };

export function draftOf(email: Email | null): EmailDraft {
  return {
    name: email?.name ?? "",
    kind: email?.kind ?? "template",
    subject: email?.subject ?? "",
    preheader: email?.preheader ?? "",
    from_name: email?.from_name ?? "",
    from_address: email?.from_address ?? "",
    reply_to: email?.reply_to ?? "",
    headers: headersToRows(email?.headers ?? []),
    body_format: email?.body_format ?? "mjml",
    body: email ? email.body : STARTER_MJML,
    text_mode: email?.text_body == null ? "generated" : "custom",
    text_body: email?.text_body ?? "",
    language: email?.language ?? "en",
    utm: { ...EMPTY_UTM, ...(email?.utm ?? {}) },
    is_published: email?.is_published ?? false,
    projects: (email?.projects ?? []).map((p) => p.id),
  };
}

/** The fields both bodies share, read from the draft. */
function common(d: EmailDraft) {
  return {
    name: d.name.trim(),
    kind: d.kind,
    subject: d.subject,
    preheader: d.preheader,
    from_name: d.from_name.trim(),
    from_address: d.from_address.trim(),
    reply_to: d.reply_to.trim(),
    headers: rowsToHeaders(d.headers),
    body_format: d.body_format,
    body: d.body,
    language: d.language.trim(),
    utm: {
      source: d.utm.source.trim(),
      medium: d.utm.medium.trim(),
      campaign: d.utm.campaign.trim(),
      content: d.utm.content.trim(),
    },
    is_published: d.is_published,
    projects: [...d.projects].sort((a, b) => a - b),
  };
}

export function createBody(d: EmailDraft): EmailCreate {
  return { ...common(d), text_body: d.text_mode === "custom" ? d.text_body : null };
}

/**
 * A PATCH with only what changed since `email` (so a concurrent edit of another field is not
 * overwritten), or null when nothing did. Going back to the generated text is `generate_text`.
 */
export function patchBody(d: EmailDraft, email: Email): EmailUpdate | null {
  const now = common(d);
  const before = common(draftOf(email));
  const patch: Record<string, unknown> = {};
  for (const key of Object.keys(now) as (keyof typeof now)[]) {
    if (JSON.stringify(now[key]) !== JSON.stringify(before[key])) patch[key] = now[key];
  }
  if (d.text_mode === "custom") {
    if (email.text_body !== d.text_body) patch.text_body = d.text_body;
  } else if (email.text_body !== null) {
    patch.generate_text = true;
  }
  return Object.keys(patch).length ? (patch as EmailUpdate) : null;
}

export function isDirty(d: EmailDraft, email: Email | null): boolean {
  if (!email) return true;
  return patchBody(d, email) !== null;
}

/** A copy of an email for "Duplicate": the same content, a new name, not published. */
export function duplicateBody(email: Email): EmailCreate {
  const body = createBody(draftOf(email));
  return { ...body, name: `Copy of ${email.name}`.slice(0, 200), is_published: false };
}

/**
 * Errors of the headers rows from a problem's pointers (`/headers/2/name` is the third row),
 * by row key. Pointers that name no row are left to the general messages.
 */
export function headerRowErrors(errors: readonly ProblemFieldError[], rows: readonly HeaderRow[]): Map<number, string> {
  // The API numbers the rows it received, which are the non-empty ones.
  const sent = rows.filter((r) => r.name.trim() !== "" || r.value.trim() !== "");
  const out = new Map<number, string>();
  for (const e of errors) {
    const [head, index] = pointerTokens(e.pointer);
    if (head !== "headers" || index === undefined) continue;
    const row = sent[Number(index)];
    if (!row) continue;
    const prev = out.get(row.key);
    out.set(row.key, prev ? `${prev} ${e.detail}` : e.detail);
  }
  return out;
}
