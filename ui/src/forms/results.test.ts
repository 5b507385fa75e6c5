import { describe, expect, it } from "vitest";
import { displayValue, valueColumns, valueText } from "./results";
import type { FormField } from "./types";

const field = (over: Partial<FormField>): FormField => ({
  key: "k",
  label: "L",
  type: "text",
  name: "n",
  contact_field: null,
  required: false,
  default: null,
  placeholder: "",
  help: "",
  options: [],
  validation: { min_length: null, max_length: null, min: null, max: null, pattern: null },
  consent_text: null,
  ...over,
});

describe("results", () => {
  it("renders values as text", () => {
    expect(valueText(["a", "b"])).toBe("a, b");
    expect(valueText(true)).toBe("Yes");
    expect(valueText(null)).toBe("");
    expect(valueText({ x: 1 })).toBe('{"x":1}');
    expect(valueText("<script>alert(1)</script>")).toBe("<script>alert(1)</script>");
  });

  it("shows option labels and consent as yes or no", () => {
    const colour = field({
      type: "checkbox_group",
      options: [
        { label: "Red", value: "r" },
        { label: "Blue", value: "b" },
      ],
    });
    expect(displayValue(colour, ["r", "b", "x"])).toBe("Red, Blue, x");
    expect(displayValue(field({ type: "consent" }), "1")).toBe("Yes");
    expect(displayValue(field({ type: "consent" }), null)).toBe("No");
  });

  it("adds columns for values of fields removed since", () => {
    const cols = valueColumns([field({ name: "email", label: "Email" })], [{ values: { email: "a@b.c", old: "x" } }]);
    expect(cols.map((c) => [c.name, c.header])).toEqual([
      ["email", "Email"],
      ["old", "old (removed)"],
    ]);
  });
});
