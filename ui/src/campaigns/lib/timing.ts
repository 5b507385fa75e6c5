/**
 * Timing labels and checks, mirrored from src/trellis/engine/timing.py (describe, is_immediate)
 * so the canvas labels edges exactly as the server does, before anything is saved.
 */
import type { TimingDoc } from "../canvas/types";

export type Timing = Partial<TimingDoc>;
export const WEEKDAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] as const;
export const UNITS = ["minute", "hour", "day", "week", "month", "year"] as const;

/** "09:00:00" or "09:00" -> "09:00"; anything else -> null. */
export function clock(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const match = /^(\d{1,2}):(\d{2})/.exec(value);
  if (!match) return null;
  return `${match[1]!.padStart(2, "0")}:${match[2]}`;
}

function hasWindow(t: Timing): boolean {
  return clock(t.window_start) !== null && clock(t.window_end) !== null;
}

/** True when the due time depends on the contact (timezone or a field). */
export function contactSpecific(t: Timing): boolean {
  if (t.mode === "relative") return true;
  return t.mode === "interval" && (clock(t.at_hour) !== null || hasWindow(t) || (t.weekdays ?? []).length > 0);
}

export function isImmediate(t: Timing | undefined | null): boolean {
  const timing = t ?? {};
  const mode = timing.mode ?? "immediate";
  return mode === "immediate" || (mode === "interval" && (timing.amount ?? 0) === 0 && !contactSpecific(timing));
}

function plural(amount: number, unit: string): string {
  return `${amount} ${unit}${amount === 1 ? "" : "s"}`;
}

/** "2026-12-01T08:00:00Z" -> "2026-12-01 08:00 UTC". */
function utcMinute(value: unknown): string {
  if (typeof value !== "string" || !value) return "a date to choose";
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return value;
  const iso = d.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

export interface LabelOptions {
  /** The step hangs on a decision's no path: its delay is the time the contact has to act. */
  decisionNo?: boolean;
}

/**
 * The label of a step's timing: "after 3 days, 09:00 contact time", or "within 2 days" on a
 * decision's no path (the contact did not act within that time).
 */
export function timingLabel(t: Timing | undefined | null, options: LabelOptions = {}): string {
  const timing = t ?? {};
  const mode = timing.mode ?? "immediate";
  if (mode === "immediate") return options.decisionNo ? "no delay set" : "immediately";
  if (mode === "date") return `${options.decisionNo ? "not by" : "on"} ${utcMinute(timing.at)}`;
  if (mode === "relative") {
    const offset = timing.offset_days ?? 0;
    const when = offset < 0 ? "before" : "after";
    const hour = clock(timing.at_hour) ?? "09:00";
    return `${plural(Math.abs(offset), "day")} ${when} ${timing.field || "a date field"}, ${hour}`;
  }
  const amount = timing.amount ?? 0;
  const parts = [`${options.decisionNo ? "within" : "after"} ${plural(amount, timing.unit ?? "day")}`];
  const hour = clock(timing.at_hour);
  if (hour) parts.push(`${hour} contact time`);
  else if (hasWindow(timing)) parts.push(`between ${clock(timing.window_start)} and ${clock(timing.window_end)}`);
  const days = [...new Set(timing.weekdays ?? [])].sort((a, b) => a - b);
  if (days.length) parts.push("on " + days.map((d) => WEEKDAY_NAMES[d] ?? String(d)).join(", "));
  return parts.join(", ");
}

/** The timing to send: only the fields its mode uses, times as HH:MM. */
export function normalizeTiming(t: Timing | undefined | null): TimingDoc {
  const timing = t ?? {};
  const mode = timing.mode ?? "immediate";
  const base: TimingDoc = { mode, amount: 0, unit: "day", offset_days: 0 };
  if (mode === "interval") {
    const at_hour = clock(timing.at_hour);
    const start = clock(timing.window_start);
    const end = clock(timing.window_end);
    return {
      ...base,
      amount: Math.max(0, Math.trunc(Number(timing.amount ?? 0)) || 0),
      unit: timing.unit ?? "day",
      at_hour,
      window_start: at_hour ? null : start,
      window_end: at_hour ? null : end,
      weekdays: [...new Set(timing.weekdays ?? [])].sort((a, b) => a - b),
    };
  }
  if (mode === "date") return { ...base, at: timing.at ?? null };
  if (mode === "relative") {
    return {
      ...base,
      field: timing.field ?? null,
      offset_days: Math.trunc(Number(timing.offset_days ?? 0)) || 0,
      at_hour: clock(timing.at_hour),
    };
  }
  return base;
}
