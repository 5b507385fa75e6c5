import { describe, expect, it } from "vitest";
import { describeDateValue, formatDateValue, parseDateValue } from "./relativeDate";

describe("relative date values", () => {
  it("reads what the API stores", () => {
    expect(parseDateValue("today")).toEqual({ mode: "relative", word: "today" });
    expect(parseDateValue("Last  Month")).toEqual({ mode: "relative", word: "last month" });
    expect(parseDateValue("-3 days")).toEqual({ mode: "offset", n: -3, unit: "day" });
    expect(parseDateValue("+1 week")).toEqual({ mode: "offset", n: 1, unit: "week" });
    expect(parseDateValue("2024-05-01")).toEqual({ mode: "date", date: "2024-05-01" });
    expect(parseDateValue(undefined)).toEqual({ mode: "date", date: "" });
  });

  it("writes what the API accepts", () => {
    expect(formatDateValue({ mode: "offset", n: -3, unit: "day" })).toBe("-3 days");
    expect(formatDateValue({ mode: "offset", n: 1, unit: "month" })).toBe("+1 month");
    expect(formatDateValue({ mode: "relative", word: "next year" })).toBe("next year");
    expect(formatDateValue({ mode: "date", date: "2024-01-31" })).toBe("2024-01-31");
    for (const text of ["-12 weeks", "+2 years", "this week", "2023-02-28"]) {
      expect(formatDateValue(parseDateValue(text))).toBe(text);
    }
  });

  it("describes a choice", () => {
    expect(describeDateValue({ mode: "offset", n: -2, unit: "week" })).toBe("2 weeks ago");
    expect(describeDateValue({ mode: "offset", n: 1, unit: "day" })).toBe("in 1 day");
  });
});
