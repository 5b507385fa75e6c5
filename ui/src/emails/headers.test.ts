import { describe, expect, it } from "vitest";
import { headersToObject, headersToRows, newRow, objectToHeaders, rowErrors, rowsToHeaders } from "./headers";

describe("headers rows", () => {
  it("round-trips the API's list through rows", () => {
    const list = [
      { name: "X-Campaign", value: "spring" },
      { name: "X-Tier", value: "gold" },
    ];
    const rows = headersToRows(list);
    expect(new Set(rows.map((r) => r.key)).size).toBe(2);
    expect(rowsToHeaders(rows)).toEqual(list);
  });
  it("drops empty rows and trims", () => {
    expect(rowsToHeaders([newRow("  X-A ", " 1 "), newRow("", "  "), newRow("X-B", "")])).toEqual([
      { name: "X-A", value: "1" },
      { name: "X-B", value: "" },
    ]);
  });
  it("converts to and from an object, a later duplicate (any case) winning", () => {
    expect(
      headersToObject([
        { name: "X-A", value: "1" },
        { name: "x-a", value: "2" },
        { name: "X-B", value: "3" },
      ]),
    ).toEqual({ "x-a": "2", "X-B": "3" });
    expect(objectToHeaders({ "X-A": "1" })).toEqual([{ name: "X-A", value: "1" }]);
  });
});

describe("rowErrors", () => {
  it("flags reserved, malformed, duplicate and nameless rows, not empty ones", () => {
    const rows = [
      newRow("X-Ok", "fine"),
      newRow("Subject", "no"),
      newRow("Bad Name", "x"),
      newRow("x-ok", "again"),
      newRow("", "orphan"),
      newRow("", ""),
    ];
    const errors = rowErrors(rows);
    expect(errors.has(rows[0]!.key)).toBe(false);
    expect(errors.get(rows[1]!.key)).toMatch(/set by Trellis/);
    expect(errors.get(rows[2]!.key)).toMatch(/Letters, digits/);
    expect(errors.get(rows[3]!.key)).toMatch(/already set/);
    expect(errors.get(rows[4]!.key)).toMatch(/Name the header/);
    expect(errors.has(rows[5]!.key)).toBe(false);
  });
});
