import { describe, expect, it } from "vitest";
import { branchPaths, connectionRefusal, indexTypes, localProblems, outputsOf, typesAllowedAt } from "./graph";
import { sampleDoc, TYPES } from "./fixtures";

const types = indexTypes(TYPES);

function withStep(type: string, key = "new") {
  const doc = sampleDoc();
  return { ...doc, events: [...doc.events, { key, type, config: {}, timing: { mode: "immediate" as const } }] };
}

describe("outputs", () => {
  it("gives conditions and decisions yes/no, actions one output and leaves none", () => {
    expect(outputsOf({ type: "contact.tags" }, types)).toEqual(["yes", "no"]);
    expect(outputsOf({ type: "contact.performs_event" }, types)).toEqual(["yes", "no"]);
    expect(outputsOf({ type: "contact.change_points" }, types)).toEqual([null]);
    expect(outputsOf({ type: "contact.delete" }, types)).toEqual([]);
  });

  it("gives a random split one branch per weight, with the schema default when unset", () => {
    expect(outputsOf({ type: "condition.random_split", config: { weights: [1, 2, 3] } }, types)).toEqual([
      "b0",
      "b1",
      "b2",
    ]);
    expect(branchPaths({ type: "condition.random_split", config: {} }, types)).toEqual(["b0", "b1"]);
  });
});

describe("connectionRefusal", () => {
  it("allows an action under a condition's yes path", () => {
    expect(
      connectionRefusal(withStep("contact.change_tags"), types, { source: "cond", path: "yes", target: "new" }),
    ).toBeNull();
  });

  it("refuses a decision right after a decision, with the server's reason", () => {
    const reason = connectionRefusal(withStep("contact.performs_event"), types, {
      source: "dec",
      path: "yes",
      target: "new",
    });
    expect(reason).toMatch(/A decision cannot follow a decision directly/);
  });

  it("refuses anything after a leaf step", () => {
    const doc = withStep("contact.delete", "del");
    const doc2 = { ...doc, events: [...doc.events, { key: "after", type: "contact.change_tags" }] };
    expect(connectionRefusal(doc2, types, { source: "del", path: null, target: "after" })).toMatch(
      /Nothing may follow Delete contact/,
    );
  });

  it("refuses a second incoming connection", () => {
    expect(connectionRefusal(sampleDoc(), types, { source: "yes1", path: null, target: "late" })).toMatch(
      /single incoming connection/,
    );
  });

  it("refuses a loop", () => {
    const doc = sampleDoc();
    doc.edges = doc.edges.filter((e) => e.target !== "cond");
    expect(connectionRefusal(doc, types, { source: "late", path: null, target: "cond" })).toMatch(/loop/);
  });

  it("refuses a path the parent does not have", () => {
    expect(
      connectionRefusal(withStep("contact.change_tags"), types, { source: "cond", path: null, target: "new" }),
    ).toMatch(/outputs yes, no/);
    expect(
      connectionRefusal(withStep("contact.change_tags"), types, { source: "yes1", path: "yes", target: "new" }),
    ).toMatch(/single output/);
  });

  it("enforces parent types, also at the top", () => {
    expect(connectionRefusal(withStep("email.open"), types, { source: null, path: null, target: "new" })).toMatch(
      /must follow one of: Send email/,
    );
    expect(connectionRefusal(withStep("email.open"), types, { source: "yes1", path: null, target: "new" })).toMatch(
      /must follow/,
    );
    const doc = withStep("email.send", "send");
    const doc2 = { ...doc, events: [...doc.events, { key: "open", type: "email.open" }] };
    expect(connectionRefusal(doc2, types, { source: "send", path: null, target: "open" })).toBeNull();
  });

  it("refuses connecting a step to itself", () => {
    expect(connectionRefusal(sampleDoc(), types, { source: "yes1", path: null, target: "yes1" })).toMatch(/itself/);
  });
});

describe("typesAllowedAt", () => {
  it("offers no decisions under a decision and nothing under a leaf", () => {
    const keys = typesAllowedAt(sampleDoc(), TYPES, { source: "dec", path: "yes" }).map((t) => t.key);
    expect(keys).toContain("contact.change_tags");
    expect(keys).not.toContain("contact.performs_event");
    expect(keys).not.toContain("email.open");
  });
});

describe("localProblems", () => {
  it("accepts the sample", () => {
    expect(localProblems(sampleDoc(), types)).toEqual([]);
  });

  it("flags an immediate step on a decision's no path and an unconnected step", () => {
    const doc = withStep("contact.change_tags", "loose");
    doc.events = doc.events.map((e) => (e.key === "late" ? { ...e, timing: { mode: "immediate" as const } } : e));
    const problems = localProblems(doc, types);
    expect(problems).toContainEqual(expect.objectContaining({ event: "late", field: "timing" }));
    expect(problems).toContainEqual(
      expect.objectContaining({ event: "loose", detail: "This step is not connected to anything." }),
    );
  });

  it("flags a jump without a target", () => {
    const doc = withStep("campaign.jump_to_event", "jump");
    doc.edges.push({ source: "yes1", target: "jump", path: null });
    expect(localProblems(doc, types)).toContainEqual(
      expect.objectContaining({ event: "jump", field: "config/target" }),
    );
  });
});
