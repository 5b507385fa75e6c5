import { describe, expect, it } from "vitest";
import { copySteps, pasteSteps } from "./clipboard";
import { addStep, connect, fromRead, layoutOf, movePositions, removeSteps, toSave } from "./doc";
import { sampleDoc, TYPES } from "./fixtures";
import { indexTypes } from "./graph";
import { createHistory, record, redo, undo } from "./history";
import { autoLayout } from "./layout";
import { docToFlow, edgeFromFlow } from "./flow";

const types = indexTypes(TYPES);
const byKey = (key: string) => TYPES.find((t) => t.key === key)!;

describe("addStep and connect", () => {
  it("adds a step with its schema defaults and a one-day delay on a decision's no path", () => {
    const doc = addStep(sampleDoc(), byKey("contact.change_tags"), types, {
      key: "n",
      parent: { source: "dec", path: "no" },
      position: { x: 10.4, y: 20.6 },
    });
    const step = doc.events.find((e) => e.key === "n")!;
    expect(step.config).toEqual({ add: [], remove: [] });
    expect(step.timing).toMatchObject({ mode: "interval", amount: 1, unit: "day" });
    expect(doc.edges).toContainEqual({ source: "dec", path: "no", target: "n" });
    expect(layoutOf(doc).nodes.n).toEqual({ x: 10, y: 21 });
  });

  it("refuses an illegal connection with the reason and leaves the document alone", () => {
    const doc = addStep(sampleDoc(), byKey("contact.performs_event"), types, { key: "d2" });
    const result = connect(doc, types, { source: "dec", path: "yes", target: "d2" });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(/decision cannot follow a decision/);
  });

  it("gives a step connected on a decision's no path a delay", () => {
    const doc = addStep(sampleDoc(), byKey("contact.change_points"), types, { key: "p" });
    const result = connect(doc, types, { source: "dec", path: "no", target: "p" });
    expect(result.ok).toBe(true);
    if (result.ok)
      expect(result.doc.events.find((e) => e.key === "p")!.timing).toMatchObject({ mode: "interval", amount: 1 });
  });
});

describe("removeSteps", () => {
  it("drops the steps, their edges, their positions and jump targets to them", () => {
    let doc = movePositions(sampleDoc(), { dec: { x: 1, y: 2 }, late: { x: 3, y: 4 } });
    doc = { ...doc, events: [...doc.events, { key: "j", type: "campaign.jump_to_event", config: { target: "dec" } }] };
    const next = removeSteps(doc, ["dec"]);
    expect(next.events.map((e) => e.key)).toEqual(["cond", "yes1", "late", "j"]);
    expect(next.edges.some((e) => e.source === "dec" || e.target === "dec")).toBe(false);
    expect(layoutOf(next).nodes).toEqual({ late: { x: 3, y: 4 } });
    expect(next.events.find((e) => e.key === "j")!.config).toEqual({ target: "" });
  });
});

describe("copy and paste", () => {
  it("gives pasted steps new keys, keeps inner edges, drops the edge from outside and remaps jumps", () => {
    let doc = sampleDoc();
    doc = {
      ...doc,
      events: [...doc.events, { key: "j", type: "campaign.jump_to_event", config: { target: "dec" } }],
      edges: [...doc.edges, { source: "dec", target: "j", path: "yes" }],
    };
    doc = movePositions(doc, { dec: { x: 100, y: 100 } });
    const clip = copySteps(doc, ["dec", "late", "j"])!;
    let n = 0;
    const { doc: pasted, keys } = pasteSteps(doc, clip, { x: 40, y: 40 }, () => `k${++n}`);
    expect(keys).toEqual(["k1", "k2", "k3"]);
    expect(pasted.events).toHaveLength(doc.events.length + 3);
    expect(pasted.edges).toContainEqual({ source: "k1", target: "k2", path: "no" });
    expect(pasted.edges).toContainEqual({ source: "k1", target: "k3", path: "yes" });
    expect(pasted.edges.some((e) => e.target === "k1")).toBe(false);
    expect(pasted.events.find((e) => e.key === "k3")!.config).toEqual({ target: "k1" });
    expect(layoutOf(pasted).nodes.k1).toEqual({ x: 140, y: 140 });
  });

  it("copies nothing when nothing is selected", () => {
    expect(copySteps(sampleDoc(), [])).toBeNull();
  });
});

describe("history", () => {
  it("undoes and redoes, and groups edits of one field", () => {
    let h = createHistory("a");
    h = record(h, "ab", "name");
    h = record(h, "abc", "name");
    h = record(h, "abcd");
    expect(h.past).toEqual(["a", "abc"]);
    h = undo(h);
    expect(h.present).toBe("abc");
    h = undo(h);
    expect(h.present).toBe("a");
    h = undo(h);
    expect(h.present).toBe("a");
    h = redo(h);
    expect(h.present).toBe("abc");
    h = record(h, "x");
    expect(h.future).toEqual([]);
  });
});

describe("document and flow", () => {
  it("turns the document into nodes and labelled edges and back", () => {
    const { nodes, edges } = docToFlow(sampleDoc(), TYPES);
    expect(nodes.map((n) => n.id)).toEqual(["__sources", "cond", "yes1", "dec", "late"]);
    const late = edges.find((e) => e.target === "late")!;
    expect(late.label).toBe("within 2 days");
    expect(late.ariaLabel).toBe("From Contact performs event (No) to Change tags, within 2 days");
    expect(edges.find((e) => e.target === "yes1")!.label).toBe("");
    expect(late.sourceHandle).toBe("no");
    expect(edges.find((e) => e.target === "cond")!.source).toBe("__sources");
    expect(edgeFromFlow({ source: "__sources", sourceHandle: "out", target: "cond" })).toEqual({
      source: null,
      target: "cond",
      path: null,
    });
    expect(edgeFromFlow({ source: "dec", sourceHandle: "no", target: "late" })).toEqual({
      source: "dec",
      target: "late",
      path: "no",
    });
  });

  it("puts counts and problems on the nodes", () => {
    const counts = {
      cond: { scheduled: 0, waiting: 0, done: 0, warned: 0, failed: 0, dead: 0, yes: 3, no: 1, cancelled: 0 },
    };
    const { nodes } = docToFlow(sampleDoc(), TYPES, {
      readOnly: true,
      counts,
      problems: [{ event: "dec", field: "config", detail: "Bad" }],
    });
    const cond = nodes.find((n) => n.id === "cond")!;
    expect((cond.data as { counts: unknown }).counts).toEqual(counts.cond);
    expect((nodes.find((n) => n.id === "dec")!.data as { problems: string[] }).problems).toEqual(["Bad"]);
    expect((nodes[0]!.data as { entered: number }).entered).toBe(4);
  });

  it("lays out the tree top down with branches in handle order", () => {
    const positions = autoLayout(sampleDoc(), types);
    expect(positions.__sources!.y).toBeLessThan(positions.cond!.y);
    expect(positions.cond!.y).toBeLessThan(positions.yes1!.y);
    expect(positions.yes1!.x).toBeLessThan(positions.dec!.x);
    expect(positions.dec!.y).toBeLessThan(positions.late!.y);
  });

  it("puts split branches in handle order and loose steps to the right", () => {
    const doc = sampleDoc();
    doc.events.push(
      { key: "split", type: "condition.random_split", config: { weights: [1, 1, 1] } },
      { key: "c2", type: "contact.change_points" },
      { key: "c0", type: "contact.change_points" },
      { key: "c1", type: "contact.change_points" },
      { key: "loose", type: "contact.change_points" },
    );
    doc.edges.push(
      { source: "yes1", target: "split", path: null },
      { source: "split", target: "c2", path: "b2" },
      { source: "split", target: "c0", path: "b0" },
      { source: "split", target: "c1", path: "b1" },
    );
    const p = autoLayout(doc, types);
    expect(p.c0!.x).toBeLessThan(p.c1!.x);
    expect(p.c1!.x).toBeLessThan(p.c2!.x);
    expect(p.c0!.y).toBe(p.c2!.y);
    const rightmost = Math.max(
      ...Object.entries(p)
        .filter(([k]) => k !== "loose")
        .map(([, xy]) => xy.x),
    );
    expect(p.loose!.x).toBeGreaterThan(rightmost);
  });

  it("saves only the write fields", () => {
    const read = {
      ...sampleDoc(),
      id: 3,
      uuid: "u",
      description: "",
      projects: [],
      is_published: false,
      publish_up: null,
      publish_down: null,
      allow_restart: false,
      reactivation: "count_all_time",
      exit_on_source_leave: true,
      default_timezone: null,
      paused_reason: null,
      members: 0,
      created_at: "",
      updated_at: "",
      last_published_at: null,
      version: 2,
      events: [
        {
          key: "cond",
          id: 9,
          type: "contact.tags",
          kind: "condition",
          name: "",
          description: "",
          config: {},
          timing: { mode: "immediate", at_hour: null },
          timing_label: "immediately",
        },
      ],
    };
    const save = toSave(fromRead(read));
    expect(Object.keys(save).sort()).toEqual(
      [
        "allow_restart",
        "canvas",
        "default_timezone",
        "description",
        "edges",
        "events",
        "exit_on_source_leave",
        "name",
        "projects",
        "publish_down",
        "publish_up",
        "reactivation",
        "sources",
      ].sort(),
    );
    expect(Object.keys(save.events![0]!).sort()).toEqual(["config", "description", "key", "name", "timing", "type"]);
  });
});
