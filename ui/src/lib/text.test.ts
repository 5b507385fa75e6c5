import { describe, expect, it } from "vitest";
import { valueAsText } from "./text";

describe("valueAsText", () => {
  it("writes scalars as themselves and nothing as empty", () => {
    expect(valueAsText("a")).toBe("a");
    expect(valueAsText(3.5)).toBe("3.5");
    expect(valueAsText(false)).toBe("false");
    expect(valueAsText(null)).toBe("");
    expect(valueAsText(undefined)).toBe("");
  });

  it("writes objects and lists as JSON", () => {
    expect(valueAsText({ a: 1 })).toBe('{"a":1}');
    expect(valueAsText([1, "x"])).toBe('[1,"x"]');
  });
});
