/**
 * Pure helpers of the campaign pages: status of a campaign, totals and percentages of the step
 * counters, how a step's state reads, and datetime-local conversions. Kept free of React so
 * Vitest covers them directly.
 */

export type TagType =
  "green" | "gray" | "red" | "blue" | "purple" | "warm-gray" | "magenta" | "teal" | "cyan" | "high-contrast";

export interface CampaignState {
  is_published: boolean;
  paused_reason?: string | null;
  publish_up?: string | null;
  publish_down?: string | null;
}

export interface StatusView {
  label: string;
  tag: TagType;
  /** Why it is in this state, when there is more to say than the label. */
  detail: string | null;
}

/** Published, scheduled (window not open yet), ended (window closed), paused (by the failure
 * guard, with its reason) or unpublished. */
export function campaignStatus(c: CampaignState, now: Date = new Date()): StatusView {
  if (c.is_published) {
    if (c.publish_up && new Date(c.publish_up) > now) {
      return { label: "Scheduled", tag: "cyan", detail: `Starts ${formatShort(c.publish_up)}` };
    }
    if (c.publish_down && new Date(c.publish_down) <= now) {
      return { label: "Ended", tag: "warm-gray", detail: `Ended ${formatShort(c.publish_down)}` };
    }
    return { label: "Published", tag: "green", detail: null };
  }
  if (c.paused_reason) return { label: "Paused", tag: "red", detail: c.paused_reason };
  return { label: "Unpublished", tag: "gray", detail: null };
}

function formatShort(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export interface Counts {
  scheduled: number;
  waiting: number;
  done: number;
  warned: number;
  failed: number;
  dead: number;
  yes: number;
  no: number;
  cancelled: number;
}

export const ZERO: Counts = {
  scheduled: 0,
  waiting: 0,
  done: 0,
  warned: 0,
  failed: 0,
  dead: 0,
  yes: 0,
  no: 0,
  cancelled: 0,
};

/** The counters of every step added up. */
export function totalCounts(stats: Record<string, Partial<Counts>> | undefined): Counts {
  const total = { ...ZERO };
  for (const counts of Object.values(stats ?? {})) {
    for (const key of Object.keys(total) as (keyof Counts)[]) total[key] += counts[key] ?? 0;
  }
  return total;
}

/** Yes and no as whole percentages of the decided contacts, or null before any decision. */
export function yesNoPercent(counts: Partial<Counts> | undefined): { yes: number; no: number } | null {
  const yes = counts?.yes ?? 0;
  const no = counts?.no ?? 0;
  const decided = yes + no;
  if (decided === 0) return null;
  const yesPct = Math.round((yes / decided) * 100);
  return { yes: yesPct, no: 100 - yesPct };
}

/** Steps that finished (whatever the outcome) over those that were tried: the share that
 * died, as a whole percentage, or null before anything finished. */
export function deadPercent(counts: Partial<Counts> | undefined): number | null {
  const finished =
    (counts?.done ?? 0) + (counts?.warned ?? 0) + (counts?.dead ?? 0) + (counts?.yes ?? 0) + (counts?.no ?? 0);
  if (finished === 0) return null;
  return Math.round(((counts?.dead ?? 0) / finished) * 100);
}

const STEP_STATUS: Record<string, { label: string; tag: TagType }> = {
  scheduled: { label: "Scheduled", tag: "blue" },
  waiting: { label: "Waiting", tag: "purple" },
  running: { label: "Running", tag: "teal" },
  done: { label: "Done", tag: "green" },
  warned: { label: "Done with a warning", tag: "magenta" },
  dead: { label: "Failed for good", tag: "red" },
  failed: { label: "Failed, will retry", tag: "magenta" },
  yes: { label: "Yes", tag: "green" },
  no: { label: "No", tag: "warm-gray" },
  cancelled: { label: "Cancelled", tag: "gray" },
  skipped: { label: "Skipped", tag: "gray" },
};

export function stepStatus(status: string): { label: string; tag: TagType } {
  return STEP_STATUS[status] ?? { label: status, tag: "gray" };
}

const MEMBER_STATUS: Record<string, { label: string; tag: TagType }> = {
  active: { label: "Active", tag: "green" },
  exited: { label: "Exited", tag: "warm-gray" },
  removed: { label: "Removed", tag: "gray" },
};

export function memberStatus(status: string): { label: string; tag: TagType } {
  return MEMBER_STATUS[status] ?? { label: status, tag: "gray" };
}

/** Steps a contact may still change: reschedule and cancel open ones, retry dead ones. */
export function stepActions(status: string): ("reschedule" | "cancel" | "retry")[] {
  if (status === "scheduled" || status === "waiting") return ["reschedule", "cancel"];
  if (status === "dead") return ["retry"];
  return [];
}

/** Why a step ended up as it did, from its detail: an error, a warning, a skip reason, or a
 * cancellation. */
export function stepReason(detail: Record<string, unknown> | null | undefined): string | null {
  if (!detail) return null;
  for (const key of ["error", "last_error", "warning", "reason", "skipped"]) {
    const value = detail[key];
    if (typeof value === "string" && value) return value;
  }
  const path = detail.path;
  if (typeof path === "string" && path) return `Took the ${path} path`;
  return null;
}

/** An ISO instant as the value of an `<input type="datetime-local">` in local time. */
export function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A datetime-local value (local time, no zone) as an ISO 8601 instant, or null. */
export function fromLocalInput(local: string): string | null {
  if (!local) return null;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** "Tag later (scheduled, due 4 Mar 2026, 09:00)" for each step a member waits on. */
export function describeWaiting(
  steps: { event_name: string; type: string; status: string; due_at: string | null }[] | undefined,
): string {
  if (!steps || steps.length === 0) return "";
  return steps
    .map((s) => {
      const name = s.event_name || s.type;
      const when = s.due_at
        ? s.status === "waiting"
          ? `until ${formatShort(s.due_at)}`
          : `due ${formatShort(s.due_at)}`
        : null;
      return `${name} (${s.status}${when ? `, ${when}` : ""})`;
    })
    .join("; ");
}

/** What adding contacts did: who entered, who started again, and who was refused and why. */
export function membersChangeText(result: {
  added: number[];
  restarted: number[];
  rejected: Record<string, string>;
}): string {
  const parts = [];
  if (result.added.length) parts.push(`${result.added.length} added`);
  if (result.restarted.length) parts.push(`${result.restarted.length} started again`);
  const rejected = Object.entries(result.rejected);
  if (rejected.length)
    parts.push(`${rejected.length} refused (${[...new Set(rejected.map(([, why]) => why))].join("; ")})`);
  return parts.join(", ") || "Nothing changed";
}
