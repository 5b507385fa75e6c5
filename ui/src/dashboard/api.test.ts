import { describe, expect, it } from "vitest";
import { checklistSteps, percent } from "./api";

describe("checklistSteps", () => {
  it("lists the steps in order and marks the finished ones", () => {
    const steps = checklistSteps({ contacts: true, segment: false, email: false, campaign: true, published: false });
    expect(steps.map((s) => s.key)).toEqual(["contacts", "segment", "email", "campaign", "published"]);
    expect(steps.filter((s) => s.done).map((s) => s.key)).toEqual(["contacts", "campaign"]);
    expect(steps[0]?.to).toBe("/contacts/import");
  });
});

describe("percent", () => {
  it("has no rate without a base", () => {
    expect(percent(3, 0)).toBe("–");
  });
  it("rounds to one decimal", () => {
    expect(percent(1, 3)).toBe("33.3%");
  });
});
