import { describe, expect, it } from "vitest";
import { describeChangeLine, flattenChanges, formatValue, summarizeChanges } from "./auditFormat";

describe("formatValue", () => {
  it("joins lists with a comma", () => {
    expect(formatValue(["A", "B"])).toBe("A, B");
    expect(
      formatValue([
        { id: 1, name: "Spring" },
        { id: 2, name: "Fall" },
      ]),
    ).toBe("Spring, Fall");
  });
  it("names emptiness and booleans", () => {
    expect(formatValue(null)).toBe("(empty)");
    expect(formatValue([])).toBe("(empty)");
    expect(formatValue(true)).toBe("yes");
    expect(formatValue(0)).toBe("0");
  });
});

describe("flattenChanges", () => {
  it("reads a project association change as old -> new", () => {
    const lines = flattenChanges({ projects: { old: ["A", "B"], new: ["A", "C"] } });
    expect(lines.map(describeChangeLine)).toEqual(["projects: A, B -> A, C"]);
  });

  it("reads a rename", () => {
    const lines = flattenChanges({ name: { old: "Launch", new: "Launch 2" } });
    expect(lines).toEqual([{ kind: "changed", path: "name", old: "Launch", new: "Launch 2" }]);
  });

  it("walks nested documents", () => {
    const lines = flattenChanges({
      events: {
        added: [{ key: "e3", name: "Send email" }],
        removed: [{ key: "e1", name: "Wait" }],
        changed: [{ key: "e2", changes: { delay: { old: 1, new: 2 }, tags: { old: [], new: ["x"] } } }],
      },
    });
    expect(lines.map(describeChangeLine)).toEqual([
      "events: added Send email",
      "events: removed Wait",
      "events[e2].delay: 1 -> 2",
      "events[e2].tags: (empty) -> x",
    ]);
  });

  it("ignores non-objects and summarizes field names", () => {
    expect(flattenChanges(null)).toEqual([]);
    expect(summarizeChanges({ a: 1, b: 2, c: 3, d: 4, e: 5 })).toBe("a, b, c and 2 more");
  });
});
