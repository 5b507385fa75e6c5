import { describe, expect, it } from "vitest";
import { changedChoices, summarise, type EntityAnalysis } from "./api";

function entity(uuid: string, over: Partial<EntityAnalysis> = {}): EntityAnalysis {
  return {
    kind: "email",
    uuid,
    name: uuid,
    status: "conflicting",
    match: "uuid",
    existing_id: 1,
    choices: ["reuse", "update", "copy"],
    default: "copy",
    ...over,
  };
}

describe("changedChoices", () => {
  it("sends only choices that differ from the default and are allowed", () => {
    const entities = [entity("a"), entity("b"), entity("c", { status: "new", choices: ["create"], default: "create" })];
    expect(changedChoices(entities, { a: "update", b: "copy", c: "reuse" })).toEqual({ a: "update" });
  });

  it("ignores uuids the analysis does not list", () => {
    expect(changedChoices([entity("a")], { zzz: "reuse" })).toEqual({});
  });
});

describe("summarise", () => {
  it("counts ids across kinds", () => {
    expect(summarise({ created: { email: [1, 2], campaign: [3] }, updated: {}, reused: { segment: [4] } })).toBe(
      "3 created, 0 updated, 1 reused",
    );
  });
});
