import { describe, expect, it } from "vitest";
import {
  campaignStatus,
  deadPercent,
  describeWaiting,
  fromLocalInput,
  membersChangeText,
  stepActions,
  stepReason,
  toLocalInput,
  totalCounts,
  yesNoPercent,
} from "./format";

const NOW = new Date("2026-03-02T09:00:00Z");

describe("campaignStatus", () => {
  it("tells published, scheduled, ended, paused and unpublished apart", () => {
    expect(campaignStatus({ is_published: true }, NOW).label).toBe("Published");
    expect(campaignStatus({ is_published: true, publish_up: "2026-03-03T00:00:00Z" }, NOW).label).toBe("Scheduled");
    expect(campaignStatus({ is_published: true, publish_down: "2026-03-01T00:00:00Z" }, NOW).label).toBe("Ended");
    const paused = campaignStatus({ is_published: false, paused_reason: "Paused: 30 of 100 steps failed" }, NOW);
    expect(paused).toEqual({ label: "Paused", tag: "red", detail: "Paused: 30 of 100 steps failed" });
    expect(campaignStatus({ is_published: false, paused_reason: null }, NOW)).toEqual({
      label: "Unpublished",
      tag: "gray",
      detail: null,
    });
  });
  it("ignores a stale pause reason once published again", () => {
    expect(campaignStatus({ is_published: true, paused_reason: "old" }, NOW).label).toBe("Published");
  });
});

describe("counts", () => {
  it("adds up every step's counters", () => {
    const total = totalCounts({ a: { done: 3, scheduled: 2 }, b: { done: 1, dead: 4, yes: 1 } });
    expect(total.done).toBe(4);
    expect(total.scheduled).toBe(2);
    expect(total.dead).toBe(4);
    expect(total.yes).toBe(1);
    expect(totalCounts(undefined).done).toBe(0);
  });
  it("gives yes and no percentages that add up to 100, or null before any decision", () => {
    expect(yesNoPercent({ yes: 1, no: 2 })).toEqual({ yes: 33, no: 67 });
    expect(yesNoPercent({ yes: 5, no: 0 })).toEqual({ yes: 100, no: 0 });
    expect(yesNoPercent({ yes: 0, no: 0 })).toBeNull();
    expect(yesNoPercent(undefined)).toBeNull();
  });
  it("gives the share of finished steps that died", () => {
    expect(deadPercent({ done: 3, dead: 1 })).toBe(25);
    expect(deadPercent({ scheduled: 10 })).toBeNull();
  });
});

describe("steps", () => {
  it("offers reschedule and cancel on open steps, retry on dead ones, nothing else", () => {
    expect(stepActions("scheduled")).toEqual(["reschedule", "cancel"]);
    expect(stepActions("waiting")).toEqual(["reschedule", "cancel"]);
    expect(stepActions("dead")).toEqual(["retry"]);
    expect(stepActions("done")).toEqual([]);
    expect(stepActions("cancelled")).toEqual([]);
  });
  it("reads the reason from a step's detail", () => {
    expect(stepReason({ error: "answered 500", attempts: 5 })).toBe("answered 500");
    expect(stepReason({ last_error: "timeout" })).toBe("timeout");
    expect(stepReason({ reason: "cancelled by Ada" })).toBe("cancelled by Ada");
    expect(stepReason({ path: "yes" })).toBe("Took the yes path");
    expect(stepReason(null)).toBeNull();
    expect(stepReason({ other: 1 })).toBeNull();
  });
  it("describes what a member waits on", () => {
    expect(describeWaiting([])).toBe("");
    const text = describeWaiting([
      { event_name: "Tag later", type: "contact.change_tags", status: "scheduled", due_at: "2026-03-04T09:00:00Z" },
    ]);
    expect(text).toMatch(/^Tag later \(scheduled, due .+\)$/);
    expect(describeWaiting([{ event_name: "", type: "contact.performs_event", status: "waiting", due_at: null }])).toBe(
      "contact.performs_event (waiting)",
    );
  });
});

describe("datetime-local", () => {
  it("round-trips an instant through the local input value", () => {
    const iso = "2026-03-04T09:30:00.000Z";
    const local = toLocalInput(iso);
    expect(local).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/);
    expect(fromLocalInput(local)).toBe(iso);
  });
  it("gives empty and null for missing or invalid values", () => {
    expect(toLocalInput(null)).toBe("");
    expect(toLocalInput("nope")).toBe("");
    expect(fromLocalInput("")).toBeNull();
    expect(fromLocalInput("garbage")).toBeNull();
  });
});

describe("membersChangeText", () => {
  it("says who entered, who restarted and why others were refused", () => {
    expect(membersChangeText({ added: [1, 2], restarted: [], rejected: {} })).toBe("2 added");
    expect(
      membersChangeText({
        added: [],
        restarted: [3],
        rejected: { "4": "already in the campaign", "5": "already in the campaign" },
      }),
    ).toBe("1 started again, 2 refused (already in the campaign)");
    expect(membersChangeText({ added: [], restarted: [], rejected: {} })).toBe("Nothing changed");
  });
});
