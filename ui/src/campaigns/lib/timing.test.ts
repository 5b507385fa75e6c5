import { describe, expect, it } from "vitest";
import { isImmediate, normalizeTiming, timingLabel } from "./timing";

describe("timingLabel", () => {
  it("labels an interval at an hour as the server does", () => {
    expect(timingLabel({ mode: "interval", amount: 3, unit: "day", at_hour: "09:00:00" })).toBe(
      "after 3 days, 09:00 contact time",
    );
  });

  it("says within on a decision's no path", () => {
    expect(timingLabel({ mode: "interval", amount: 2, unit: "day" }, { decisionNo: true })).toBe("within 2 days");
  });

  it("labels windows, weekdays, singular units, dates and relative dates", () => {
    expect(
      timingLabel({
        mode: "interval",
        amount: 1,
        unit: "hour",
        window_start: "08:00",
        window_end: "17:30",
        weekdays: [4, 0],
      }),
    ).toBe("after 1 hour, between 08:00 and 17:30, on Mon, Fri");
    expect(timingLabel({ mode: "date", at: "2026-12-01T08:00:00Z" })).toBe("on 2026-12-01 08:00 UTC");
    expect(timingLabel({ mode: "relative", field: "birthday", offset_days: -1 })).toBe("1 day before birthday, 09:00");
    expect(timingLabel({ mode: "immediate" })).toBe("immediately");
    expect(timingLabel(undefined)).toBe("immediately");
  });
});

describe("isImmediate", () => {
  it("treats a zero interval without contact time as immediate", () => {
    expect(isImmediate({ mode: "interval", amount: 0 })).toBe(true);
    expect(isImmediate({ mode: "interval", amount: 0, at_hour: "09:00" })).toBe(false);
    expect(isImmediate({ mode: "interval", amount: 0, weekdays: [1] })).toBe(false);
    expect(isImmediate({ mode: "relative", field: "x" })).toBe(false);
  });
});

describe("normalizeTiming", () => {
  it("keeps only the fields of the mode and drops the window when an hour is set", () => {
    expect(
      normalizeTiming({
        mode: "interval",
        amount: 2.7,
        unit: "week",
        at_hour: "9:05:00",
        window_start: "08:00",
        window_end: "09:00",
        weekdays: [3, 1, 3],
      }),
    ).toEqual({
      mode: "interval",
      amount: 2,
      unit: "week",
      offset_days: 0,
      at_hour: "09:05",
      window_start: null,
      window_end: null,
      weekdays: [1, 3],
    });
    expect(normalizeTiming({ mode: "date", amount: 3, at: "2026-01-01T00:00:00Z" })).toEqual({
      mode: "date",
      amount: 0,
      unit: "day",
      offset_days: 0,
      at: "2026-01-01T00:00:00Z",
    });
  });
});
