/**
 * One reading of a step's counts for every place that shows them (the canvas nodes and the
 * campaign's steps table), so the two never disagree: "done" includes the contacts a condition or
 * decision has decided, and yes/no percentages are over the decided contacts only, with those
 * still waiting counted apart.
 */
import type { StepCountsLike } from "./flow";

export interface StepCountSummary {
  /** Scheduled for later, or (a decision) waiting for the contact to act. */
  pending: number;
  done: number;
  failed: number;
  dead: number;
  yes: number;
  no: number;
  decided: number;
  /** Whole percentages of the decided contacts; null before the first decision. */
  yesPercent: number | null;
  noPercent: number | null;
}

export function summarizeCounts(c: StepCountsLike): StepCountSummary {
  const decided = c.yes + c.no;
  const yesPercent = decided ? Math.round((c.yes / decided) * 100) : null;
  return {
    pending: c.scheduled + c.waiting,
    done: c.done + c.warned + decided,
    failed: c.failed,
    dead: c.dead,
    yes: c.yes,
    no: c.no,
    decided,
    yesPercent,
    noPercent: yesPercent === null ? null : 100 - yesPercent,
  };
}

/** "62% of 8 decided · 3 still waiting" under a condition's or decision's yes/no. */
export function decidedNote(s: StepCountSummary): string {
  const share = s.decided ? `of ${s.decided.toLocaleString()} decided` : "none decided yet";
  return s.pending ? `${share} · ${s.pending.toLocaleString()} still waiting` : share;
}
