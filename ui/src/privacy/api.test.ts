import { describe, expect, it } from "vitest";
import { periodText, runDetails, runOutcome } from "./api";

describe("periodText", () => {
  it("names the unit, singular or plural", () => {
    expect(periodText(30, "days")).toBe("30 days");
    expect(periodText(1, "days")).toBe("1 day");
    expect(periodText(36, "months")).toBe("36 months");
  });
});

describe("runDetails", () => {
  it("lists the tables a run touched", () => {
    expect(runDetails({ details: { page_hits: 1204, tracking_hits: 0, contact_events: 3 } })).toBe(
      "page hits 1,204 · contact events 3",
    );
    expect(runDetails({ details: {} })).toBe("nothing");
  });
});

describe("runOutcome", () => {
  it("says what happened", () => {
    expect(runOutcome({ status: "done", dry_run: false, rows: 1204, error: null })).toBe("Removed 1,204 rows");
    expect(runOutcome({ status: "done", dry_run: true, rows: 1, error: null })).toBe("Would remove 1 row");
    expect(runOutcome({ status: "failed", dry_run: false, rows: 0, error: "IsADirectoryError" })).toBe(
      "Failed: IsADirectoryError",
    );
    expect(runOutcome({ status: "queued", dry_run: false, rows: 0, error: null })).toBe("Waiting to start");
  });
});
