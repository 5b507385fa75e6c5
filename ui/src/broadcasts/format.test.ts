import { describe, expect, it } from "vitest";
import { allowed, bodyOf, broadcastStatus, checkDraft, draftOf, emptyDraft, progress, recipientStatus } from "./format";
import type { Broadcast } from "./types";

const NOW = new Date("2026-03-02T09:00:00Z");

function local(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

const counts = { audience: 40, pending: 28, sent: 12, failed: 0, skipped: 0, cancelled: 0 };

describe("broadcast drafts", () => {
  it("need a name, an email and a segment", () => {
    expect(checkDraft(emptyDraft(), NOW)).toEqual({
      name: "Give the broadcast a name.",
      email_id: "Choose the email to send.",
      segment_ids: "Choose at least one segment.",
    });
  });

  it("refuse a segment both included and excluded, a past start, a live audience without a valid stop", () => {
    const draft = {
      ...emptyDraft(),
      name: "News",
      email_id: 3,
      segment_ids: [1, 2],
      excluded_segment_ids: [2],
      audience_mode: "live" as const,
      start_now: false,
      start_at: local("2026-03-02T08:00:00Z"),
    };
    expect(Object.keys(checkDraft(draft, NOW)).sort()).toEqual(["excluded_segment_ids", "start_at", "stop_at"]);
    const later = {
      ...draft,
      excluded_segment_ids: [],
      start_at: local("2026-03-02T10:00:00Z"),
      stop_at: local("2026-03-02T09:30:00Z"),
    };
    expect(checkDraft(later, NOW)).toEqual({ stop_at: "The stop time must be after the start time." });
    expect(checkDraft({ ...later, stop_at: local("2026-03-03T10:00:00Z") }, NOW)).toEqual({});
  });

  it("become request bodies: no start time for 'now', no stop time for a locked audience", () => {
    const draft = {
      ...emptyDraft(),
      name: " News ",
      email_id: 3,
      segment_ids: [1],
      stop_at: local("2026-03-03T10:00:00Z"),
    };
    expect(bodyOf(draft)).toEqual({
      name: "News",
      email_id: 3,
      segment_ids: [1],
      excluded_segment_ids: [],
      audience_mode: "locked",
      start_at: null,
      stop_at: null,
      over_cap: "skip",
    });
    const live = {
      ...draft,
      audience_mode: "live" as const,
      start_now: false,
      start_at: local("2026-03-02T10:00:00Z"),
    };
    expect(bodyOf(live)).toMatchObject({ start_at: "2026-03-02T10:00:00Z", stop_at: "2026-03-03T10:00:00Z" });
  });

  it("round-trip a stored broadcast", () => {
    const stored = {
      name: "News",
      email_id: 3,
      segment_ids: [1],
      excluded_segment_ids: [4],
      audience_mode: "live",
      start_at: "2026-03-02T10:00:00Z",
      stop_at: "2026-03-03T10:00:00Z",
      over_cap: "defer",
    } as unknown as Broadcast;
    expect(bodyOf(draftOf(stored))).toEqual({
      name: "News",
      email_id: 3,
      segment_ids: [1],
      excluded_segment_ids: [4],
      audience_mode: "live",
      start_at: "2026-03-02T10:00:00Z",
      stop_at: "2026-03-03T10:00:00Z",
      over_cap: "defer",
    });
  });
});

describe("broadcast states", () => {
  it("allow edits before sending and cancelling until sent", () => {
    expect(allowed({ status: "draft" })).toEqual({ edit: true, schedule: true, cancel: true, remove: true });
    expect(allowed({ status: "scheduled" })).toEqual({ edit: true, schedule: false, cancel: true, remove: true });
    expect(allowed({ status: "sending" })).toEqual({ edit: false, schedule: false, cancel: true, remove: false });
    expect(allowed({ status: "sent" })).toEqual({ edit: false, schedule: false, cancel: false, remove: true });
  });

  it("describe progress: the estimate before sending, sent of audience after", () => {
    expect(progress({ status: "scheduled", counts, estimated_audience: 1 })).toBe("about 1 contact");
    expect(progress({ status: "sending", counts, estimated_audience: null })).toBe("12 of 40 sent");
  });

  it("label every status", () => {
    expect(broadcastStatus("sending")).toEqual({ label: "Sending", tag: "cyan" });
    expect(recipientStatus("skipped").label).toBe("Skipped");
  });
});
