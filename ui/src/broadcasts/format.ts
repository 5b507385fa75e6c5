/**
 * Broadcasts in words and colours, and the editor's draft: what the form holds, how it becomes
 * a request body, and the checks worth making before the server is asked.
 */
import { fromDateTimeLocal, toDateTimeLocal } from "../lib/fieldTypes";
import type { AudienceMode, Broadcast, BroadcastCreate, BroadcastStatus, OverCap, RecipientStatus } from "./types";

type TagType = "gray" | "blue" | "cyan" | "green" | "red" | "purple" | "warm-gray" | "magenta" | "teal";

export const BROADCAST_STATUSES: readonly BroadcastStatus[] = ["draft", "scheduled", "sending", "sent", "cancelled"];
export const RECIPIENT_STATUSES: readonly RecipientStatus[] = [
  "pending",
  "queued",
  "sending",
  "sent",
  "failed",
  "skipped",
  "cancelled",
];

export function broadcastStatus(status: BroadcastStatus): { label: string; tag: TagType } {
  switch (status) {
    case "draft":
      return { label: "Draft", tag: "gray" };
    case "scheduled":
      return { label: "Scheduled", tag: "blue" };
    case "sending":
      return { label: "Sending", tag: "cyan" };
    case "sent":
      return { label: "Sent", tag: "green" };
    case "cancelled":
      return { label: "Cancelled", tag: "warm-gray" };
  }
}

export function recipientStatus(status: RecipientStatus): { label: string; tag: TagType } {
  switch (status) {
    case "pending":
      return { label: "Pending", tag: "gray" };
    case "queued":
      return { label: "Queued", tag: "blue" };
    case "sending":
      return { label: "Sending", tag: "cyan" };
    case "sent":
      return { label: "Sent", tag: "green" };
    case "failed":
      return { label: "Failed", tag: "red" };
    case "skipped":
      return { label: "Skipped", tag: "purple" };
    case "cancelled":
      return { label: "Cancelled", tag: "warm-gray" };
  }
}

export const AUDIENCE_MODES: readonly { value: AudienceMode; label: string; help: string }[] = [
  {
    value: "locked",
    label: "Members at the start only",
    help: "The audience is fixed when sending starts: contacts who join the segments later do not get it.",
  },
  {
    value: "live",
    label: "Keep sending to new members",
    help: "Contacts who join the segments after sending started get it too, until the stop time.",
  },
];

/** Whether the broadcast may still be edited, scheduled, cancelled or deleted. */
export function allowed(b: Pick<Broadcast, "status">) {
  return {
    edit: b.status === "draft" || b.status === "scheduled",
    schedule: b.status === "draft",
    cancel: b.status === "draft" || b.status === "scheduled" || b.status === "sending",
    remove: b.status !== "sending",
  };
}

/** "12 of 40 sent": how far a broadcast got, for the list. */
export function progress(b: Pick<Broadcast, "status" | "counts" | "estimated_audience">): string {
  const c = b.counts;
  if (b.status === "draft" || b.status === "scheduled") {
    const n = b.estimated_audience ?? 0;
    return `about ${n.toLocaleString()} contact${n === 1 ? "" : "s"}`;
  }
  return `${c.sent.toLocaleString()} of ${c.audience.toLocaleString()} sent`;
}

/** What the editor form holds: dates as datetime-local texts, segments as ids. */
export interface Draft {
  name: string;
  email_id: number | null;
  segment_ids: number[];
  excluded_segment_ids: number[];
  audience_mode: AudienceMode;
  start_now: boolean;
  start_at: string;
  stop_at: string;
  over_cap: OverCap;
}

export function emptyDraft(): Draft {
  return {
    name: "",
    email_id: null,
    segment_ids: [],
    excluded_segment_ids: [],
    audience_mode: "locked",
    start_now: true,
    start_at: "",
    stop_at: "",
    over_cap: "skip",
  };
}

export function draftOf(b: Broadcast): Draft {
  return {
    name: b.name,
    email_id: b.email_id,
    segment_ids: [...b.segment_ids],
    excluded_segment_ids: [...b.excluded_segment_ids],
    audience_mode: b.audience_mode,
    start_now: b.start_at === null,
    start_at: toDateTimeLocal(b.start_at),
    stop_at: toDateTimeLocal(b.stop_at),
    over_cap: b.over_cap,
  };
}

/** The request body of a draft (the same fields create and update take). */
export function bodyOf(d: Draft): BroadcastCreate {
  return {
    name: d.name.trim(),
    email_id: d.email_id ?? 0,
    segment_ids: d.segment_ids,
    excluded_segment_ids: d.excluded_segment_ids,
    audience_mode: d.audience_mode,
    start_at: d.start_now ? null : fromDateTimeLocal(d.start_at),
    stop_at: d.audience_mode === "live" ? fromDateTimeLocal(d.stop_at) : null,
    over_cap: d.over_cap,
  };
}

/** Problems the form can see before saving, by field (the server checks them all again). */
export function checkDraft(d: Draft, now: Date = new Date()): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!d.name.trim()) errors.name = "Give the broadcast a name.";
  if (d.email_id === null) errors.email_id = "Choose the email to send.";
  if (d.segment_ids.length === 0) errors.segment_ids = "Choose at least one segment.";
  const both = d.segment_ids.filter((id) => d.excluded_segment_ids.includes(id));
  if (both.length) errors.excluded_segment_ids = "A segment cannot be both included and excluded.";
  const start = d.start_now ? now : parseLocal(d.start_at);
  if (!d.start_now) {
    if (start === null) errors.start_at = "Choose when sending starts.";
    else if (start.getTime() < now.getTime() - 60_000) errors.start_at = "The start time is in the past.";
  }
  if (d.audience_mode === "live") {
    const stop = parseLocal(d.stop_at);
    if (stop === null) errors.stop_at = "A live audience needs a stop time.";
    else if (start !== null && stop.getTime() <= start.getTime())
      errors.stop_at = "The stop time must be after the start time.";
  }
  return errors;
}

function parseLocal(value: string): Date | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}
