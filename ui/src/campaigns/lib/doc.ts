/**
 * Pure edits of the campaign document. Every canvas and panel change goes through these, so
 * undo/redo only has to keep documents, and the rules live in one tested place.
 */
import type { CampaignDoc, CampaignRead, CampaignSave, EdgeDoc, EventTypeInfo, StepDoc } from "../canvas/types";
import { connectionRefusal, kindOf, type ConnectRequest, type TypeIndex } from "./graph";
import { initialValue } from "./schemaForm";
import { isImmediate, normalizeTiming, type Timing } from "./timing";

export interface XY {
  x: number;
  y: number;
}

/** Where the canvas keeps layout: {"nodes": {key: {x, y}}, "sources": {x, y}} (docs/campaigns.md). */
export interface CanvasLayout {
  nodes: Record<string, XY>;
  sources?: XY;
}

export const SOURCES_ID = "__sources";

export function newKey(): string {
  return crypto.randomUUID();
}

function isXY(value: unknown): value is XY {
  return (
    typeof value === "object" && value !== null && Number.isFinite((value as XY).x) && Number.isFinite((value as XY).y)
  );
}

export function layoutOf(doc: Pick<CampaignDoc, "canvas">): CanvasLayout {
  const raw = (doc.canvas ?? {}) as { nodes?: unknown; sources?: unknown };
  const nodes: Record<string, XY> = {};
  if (raw.nodes && typeof raw.nodes === "object") {
    for (const [key, value] of Object.entries(raw.nodes as Record<string, unknown>)) {
      if (isXY(value)) nodes[key] = { x: value.x, y: value.y };
    }
  }
  return isXY(raw.sources) ? { nodes, sources: { x: raw.sources.x, y: raw.sources.y } } : { nodes };
}

export function withLayout(doc: CampaignDoc, layout: CanvasLayout): CampaignDoc {
  return {
    ...doc,
    canvas: { ...doc.canvas, nodes: layout.nodes, ...(layout.sources ? { sources: layout.sources } : {}) },
  };
}

/** Positions by node id (steps by key, the sources node by SOURCES_ID). */
export function movePositions(doc: CampaignDoc, positions: Record<string, XY>): CampaignDoc {
  const layout = layoutOf(doc);
  const nodes = { ...layout.nodes };
  let sources = layout.sources;
  for (const [id, xy] of Object.entries(positions)) {
    const rounded = { x: Math.round(xy.x), y: Math.round(xy.y) };
    if (id === SOURCES_ID) sources = rounded;
    else nodes[id] = rounded;
  }
  return withLayout(doc, { nodes, ...(sources ? { sources } : {}) });
}

export function emptyDoc(): CampaignDoc {
  return {
    name: "",
    description: "",
    projects: [],
    publish_up: null,
    publish_down: null,
    allow_restart: false,
    reactivation: "count_all_time",
    exit_on_source_leave: true,
    default_timezone: null,
    sources: [],
    events: [],
    edges: [],
    canvas: { nodes: {} },
  };
}

/** A document read from the API, made editable (timing typed, read-only fields kept aside). */
export function fromRead(read: CampaignRead): CampaignDoc {
  return {
    ...read,
    events: read.events.map((e) => ({
      key: e.key,
      type: e.type,
      name: e.name,
      description: e.description,
      config: e.config,
      timing: normalizeTiming(e.timing as Timing),
      id: e.id,
      kind: e.kind,
      timing_label: e.timing_label,
    })),
    canvas: read.canvas ?? {},
  };
}

/** The body of a save: the write fields only (the API rejects unknown fields). */
export function toSave(doc: CampaignDoc): CampaignSave {
  return {
    name: doc.name,
    description: doc.description ?? "",
    projects: doc.projects ?? [],
    publish_up: doc.publish_up ?? null,
    publish_down: doc.publish_down ?? null,
    allow_restart: doc.allow_restart ?? false,
    reactivation: (doc.reactivation ?? "count_all_time") as CampaignSave["reactivation"],
    exit_on_source_leave: doc.exit_on_source_leave ?? true,
    default_timezone: doc.default_timezone || null,
    sources: doc.sources.map((s) => ({
      kind: s.kind,
      id: s.id,
      audience: s.audience ?? "live",
      locked_at: s.audience === "locked" ? (s.locked_at ?? null) : null,
    })),
    events: doc.events.map((e) => ({
      key: e.key,
      type: e.type,
      name: e.name ?? "",
      description: e.description ?? "",
      config: e.config ?? {},
      timing: normalizeTiming(e.timing as Timing),
    })),
    edges: doc.edges.map((e) => ({ source: e.source ?? null, target: e.target, path: e.path ?? null })),
    canvas: doc.canvas ?? {},
  };
}

export function stepOf(doc: CampaignDoc, key: string): StepDoc | undefined {
  return doc.events.find((e) => e.key === key);
}

export interface AddStepOptions {
  key?: string;
  position?: XY;
  /** Connect the new step under this output right away. */
  parent?: { source: string | null; path: string | null };
}

/**
 * Add a step of a type with its default settings. A step added on a decision's no path gets a
 * one-day delay, because that path needs one (it is the time the contact has to act).
 */
export function addStep(
  doc: CampaignDoc,
  type: EventTypeInfo,
  types: TypeIndex,
  options: AddStepOptions = {},
): CampaignDoc {
  const key = options.key ?? newKey();
  const config = initialValue(type.schema, type.schema) as Record<string, unknown>;
  let timing: Timing = { mode: "immediate" };
  if (options.parent?.path === "no" && options.parent.source !== null) {
    const parent = stepOf(doc, options.parent.source);
    if (parent && kindOf(parent, types) === "decision") timing = { mode: "interval", amount: 1, unit: "day" };
  }
  const step: StepDoc = {
    key,
    type: type.key,
    name: "",
    description: "",
    config,
    timing: normalizeTiming(timing),
    kind: type.kind,
  };
  let next: CampaignDoc = { ...doc, events: [...doc.events, step] };
  if (options.position) next = movePositions(next, { [key]: options.position });
  if (options.parent) {
    next = {
      ...next,
      edges: [...next.edges, { source: options.parent.source, path: options.parent.path, target: key }],
    };
  }
  return next;
}

/** Remove steps with every edge touching them; jumps to them lose their target. */
export function removeSteps(doc: CampaignDoc, keys: Iterable<string>): CampaignDoc {
  const gone = new Set(keys);
  if (!gone.size) return doc;
  const layout = layoutOf(doc);
  const nodes = Object.fromEntries(Object.entries(layout.nodes).filter(([k]) => !gone.has(k)));
  return withLayout(
    {
      ...doc,
      events: doc.events
        .filter((e) => !gone.has(e.key))
        .map((e) =>
          typeof e.config?.target === "string" && gone.has(e.config.target)
            ? { ...e, config: { ...e.config, target: "" } }
            : e,
        ),
      edges: doc.edges.filter((e) => !gone.has(e.target) && !(e.source && gone.has(e.source))),
    },
    { ...layout, nodes },
  );
}

export function sameEdge(a: EdgeDoc, b: EdgeDoc): boolean {
  return (a.source ?? null) === (b.source ?? null) && a.target === b.target && (a.path ?? null) === (b.path ?? null);
}

export function removeEdges(doc: CampaignDoc, edges: readonly EdgeDoc[]): CampaignDoc {
  return { ...doc, edges: doc.edges.filter((e) => !edges.some((d) => sameEdge(d, e))) };
}

export type ConnectResult = { ok: true; doc: CampaignDoc } | { ok: false; reason: string };

/**
 * Connect two steps if the rules allow it. A step connected on a decision's no path without a
 * delay gets one day, so the result is valid and the user sees the delay to adjust.
 */
export function connect(doc: CampaignDoc, types: TypeIndex, request: ConnectRequest): ConnectResult {
  const reason = connectionRefusal(doc, types, request);
  if (reason) return { ok: false, reason };
  if (doc.edges.some((e) => sameEdge(e, request))) return { ok: true, doc };
  let events = doc.events;
  if (request.path === "no" && request.source !== null) {
    const parent = stepOf(doc, request.source);
    if (parent && kindOf(parent, types) === "decision") {
      events = events.map((e) =>
        e.key === request.target && isImmediate(e.timing as Timing)
          ? { ...e, timing: normalizeTiming({ mode: "interval", amount: 1, unit: "day" }) }
          : e,
      );
    }
  }
  return { ok: true, doc: { ...doc, events, edges: [...doc.edges, { ...request }] } };
}

export function updateStep(doc: CampaignDoc, key: string, patch: Partial<StepDoc>): CampaignDoc {
  return { ...doc, events: doc.events.map((e) => (e.key === key ? { ...e, ...patch } : e)) };
}

/** The display name of a step: its own name, else its type's label. */
export function stepTitle(step: StepDoc, types: TypeIndex): string {
  return step.name?.trim() || types.get(step.type)?.label || step.type;
}

/** Where a new step goes: under its parent's output (branches side by side), else below all. */
export function placeFor(
  doc: CampaignDoc,
  parent: { source: string | null; path: string | null } | null,
  outputs: (string | null)[] = [null],
): XY {
  const layout = layoutOf(doc);
  const taken = Object.values(layout.nodes);
  const free = (xy: XY): XY => {
    let candidate = xy;
    for (
      let i = 0;
      i < 50 && taken.some((t) => Math.abs(t.x - candidate.x) < 200 && Math.abs(t.y - candidate.y) < 80);
      i += 1
    ) {
      candidate = { x: candidate.x + 260, y: candidate.y };
    }
    return candidate;
  };
  if (parent) {
    const origin = parent.source === null ? (layout.sources ?? { x: 0, y: 0 }) : layout.nodes[parent.source];
    if (origin) {
      const index = Math.max(0, outputs.indexOf(parent.path));
      const spread = (index - (outputs.length - 1) / 2) * 280;
      return free({ x: origin.x + spread, y: origin.y + 180 });
    }
  }
  const lowest = taken.reduce((max, t) => Math.max(max, t.y), layout.sources?.y ?? 0);
  return free({ x: layout.sources?.x ?? 0, y: lowest + 180 });
}
