/** The email API's shapes, read from the generated schema. */
import type { RequestOf, ResponseOf } from "../api/types";

type Item<L> = L extends { data: (infer T)[] } ? T : never;

export type Email = ResponseOf<"/api/v2/emails/{email_id}", "get">;
export type EmailCreate = RequestOf<"/api/v2/emails", "post">;
export type EmailUpdate = RequestOf<"/api/v2/emails/{email_id}", "patch">;
export type EmailPreview = ResponseOf<"/api/v2/emails/{email_id}/preview", "post">;
export type TestSendResult = ResponseOf<"/api/v2/emails/{email_id}/test-send", "post">;
export type EmailSend = Item<ResponseOf<"/api/v2/emails/{email_id}/sends", "get">>;
export type OutboxItem = Item<ResponseOf<"/api/v2/outbox", "get">>;
export type OutboxMessage = ResponseOf<"/api/v2/outbox/{message_id}", "get">;
export type EmailHeader = Email["headers"][number];
export type EmailKind = Email["kind"];
export type BodyFormat = Email["body_format"];
export type SendStatus = EmailSend["status"];
export type Utm = Email["utm"];

/** One link's clicks in the email's statistics. */
export interface LinkStats {
  url: string;
  clicks: number;
  unique_clicks: number;
}

/**
 * `GET /api/v2/emails/{id}/stats` (the tracking work adds it; not in the generated client yet).
 * Counts of the email's sends by outcome, and of its recipients' opens, clicks and complaints.
 */
export interface EmailStats {
  email_id: number;
  sent: number;
  queued: number;
  failed: number;
  skipped: number;
  delivered: number;
  opens: number;
  unique_opens: number;
  clicks: number;
  unique_clicks: number;
  unsubscribes: number;
  bounces: number;
  hard_bounces: number;
  complaints: number;
  links: LinkStats[];
}
