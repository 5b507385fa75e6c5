import { describe, expect, it } from "vitest";
import {
  aliasFromLabel,
  comparisonOf,
  fieldOptions,
  formatFieldValue,
  fromDateTimeLocal,
  inputKindOf,
  isEmptyValue,
  toDateTimeLocal,
} from "./fieldTypes";

describe("field types", () => {
  it("choose an input per type", () => {
    expect(inputKindOf("long_text")).toBe("textarea");
    expect(inputKindOf("phone")).toBe("tel");
    expect(inputKindOf("multiselect")).toBe("multiselect");
    expect(inputKindOf("locale")).toBe("text");
    expect(inputKindOf("something-new")).toBe("text");
  });

  it("compare like the backend", () => {
    expect(comparisonOf("number")).toBe("number");
    expect(comparisonOf("multiselect")).toBe("list");
    expect(comparisonOf("country")).toBe("text");
    expect(comparisonOf("datetime")).toBe("datetime");
  });

  it("derive an alias from a label", () => {
    expect(aliasFromLabel("Favourite Colour")).toBe("favourite_colour");
    expect(aliasFromLabel("  Né à  ")).toBe("ne_a");
    expect(aliasFromLabel("2nd phone")).toBe("field_2nd_phone");
    expect(aliasFromLabel("")).toBe("");
  });

  it("format values", () => {
    const opts = fieldOptions([{ value: "pro", label: "Pro plan" }, { value: "free" }]);
    expect(formatFieldValue("select", "pro", opts)).toBe("Pro plan");
    expect(formatFieldValue("multiselect", ["pro", "free"], opts)).toBe("Pro plan, free");
    expect(formatFieldValue("boolean", false)).toBe("No");
    expect(formatFieldValue("text", null)).toBe("—");
    expect(isEmptyValue([])).toBe(true);
    expect(isEmptyValue(0)).toBe(false);
  });

  it("round-trip datetimes through the local input", () => {
    const local = toDateTimeLocal("2024-05-01T10:30:00");
    expect(local).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d$/);
    expect(fromDateTimeLocal(local)).toBe("2024-05-01T10:30:00Z");
    expect(fromDateTimeLocal("")).toBeNull();
  });
});
