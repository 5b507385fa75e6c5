/** Labels and tag colours for the email pages. */
import type { EmailSend, SendStatus } from "./types";

type TagType = "gray" | "blue" | "green" | "red" | "warm-gray" | "purple" | "teal";

const STATUS: Record<SendStatus, { label: string; tag: TagType }> = {
  queued: { label: "Queued", tag: "gray" },
  sending: { label: "Sending", tag: "blue" },
  sent: { label: "Sent", tag: "green" },
  failed: { label: "Failed", tag: "red" },
  skipped: { label: "Not sent", tag: "warm-gray" },
};

export function sendStatus(status: SendStatus): { label: string; tag: TagType } {
  return STATUS[status] ?? { label: status, tag: "gray" };
}

export const SEND_STATUSES = Object.keys(STATUS) as SendStatus[];

/** Where a send came from: "Campaign 3", "Broadcast 2", "Test", or the raw source. */
export function sendSource(send: Pick<EmailSend, "source" | "campaign_id" | "broadcast_id">): string {
  if (send.source === "test") return "Test";
  if (send.campaign_id !== null) return `Campaign ${send.campaign_id}`;
  if (send.broadcast_id !== null) return `Broadcast ${send.broadcast_id}`;
  return send.source;
}

/** "1.2 kB" for a message size. */
export function formatSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} kB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

/**
 * The message's HTML without its open-tracking pixel: reading a kept message in the outbox is
 * not its recipient opening it.
 */
export function withoutOpenPixel(html: string): string {
  return html.replace(/<img\b[^>]*\bsrc\s*=\s*(["'])[^"']*\/t\/open\/[^"']*\1[^>]*>/gi, "");
}
