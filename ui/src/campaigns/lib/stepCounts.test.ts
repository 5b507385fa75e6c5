import { describe, expect, it } from "vitest";
import { decidedNote, summarizeCounts } from "./stepCounts";

const zero = { scheduled: 0, waiting: 0, done: 0, warned: 0, failed: 0, dead: 0, yes: 0, no: 0, cancelled: 0 };

describe("summarizeCounts", () => {
  it("counts decided contacts as done and percentages over them only", () => {
    const s = summarizeCounts({ ...zero, waiting: 5, yes: 3, no: 1 });
    expect(s.done).toBe(4);
    expect(s.pending).toBe(5);
    expect(s.yesPercent).toBe(75);
    expect(s.noPercent).toBe(25);
    expect(decidedNote(s)).toBe("of 4 decided · 5 still waiting");
  });

  it("has no percentages before any decision", () => {
    const s = summarizeCounts({ ...zero, waiting: 2 });
    expect(s.yesPercent).toBeNull();
    expect(decidedNote(s)).toBe("none decided yet · 2 still waiting");
  });

  it("adds warned actions to done", () => {
    expect(summarizeCounts({ ...zero, done: 2, warned: 1, scheduled: 4 })).toMatchObject({ done: 3, pending: 4 });
  });
});
