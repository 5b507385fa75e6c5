import { describe, expect, it } from "vitest";
import { changedChoices, describeOrigin, noteLines, summarise, type EntityAnalysis } from "./api";

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

describe("describeOrigin", () => {
  const at = "2026-11-27T09:00:00Z";

  it("names the Trellis version of our own exports", () => {
    expect(describeOrigin({ source: "trellis", trellis_version: "0.4.0", exported_at: at }, "x.zip")).toContain(
      "exported by Trellis 0.4.0",
    );
  });

  it("says when the file is a translated Mautic export", () => {
    const text = describeOrigin(
      { source: "mautic", trellis_version: "Mautic 7 campaign export", exported_at: at },
      "m.zip",
    );
    expect(text).toContain("a Mautic campaign export");
    expect(text).not.toContain("exported by Trellis");
  });
});

describe("noteLines", () => {
  it("lists each note with its place in the Mautic file", () => {
    const notes = [
      { entity: "campaign_event", name: "Push to CRM", path: "/0/campaign_event/11/type", message: "No equivalent." },
    ];
    expect(noteLines(notes)).toEqual(["Push to CRM (/0/campaign_event/11/type): No equivalent."]);
    expect(noteLines(undefined)).toEqual([]);
  });
});
