/**
 * Copy and paste of steps: the copied steps get new keys, edges between them follow the new
 * keys, edges into the copy from outside are dropped (a step has one parent, and it stays with
 * the original), and jumps inside the copy point at the copied targets.
 */
import type { CampaignDoc, EdgeDoc, StepDoc } from "../canvas/types";
import { layoutOf, movePositions, newKey, type XY } from "./doc";

export interface StepClip {
  kind: "trellis.steps";
  steps: StepDoc[];
  edges: EdgeDoc[];
  positions: Record<string, XY>;
}

export function copySteps(doc: CampaignDoc, keys: Iterable<string>): StepClip | null {
  const chosen = new Set(keys);
  const steps = doc.events.filter((e) => chosen.has(e.key));
  if (!steps.length) return null;
  const layout = layoutOf(doc);
  return {
    kind: "trellis.steps",
    steps: steps.map((s) => JSON.parse(JSON.stringify(s)) as StepDoc),
    edges: doc.edges
      .filter((e) => e.source != null && chosen.has(e.source) && chosen.has(e.target))
      .map((e) => ({ ...e })),
    positions: Object.fromEntries(steps.filter((s) => layout.nodes[s.key]).map((s) => [s.key, layout.nodes[s.key]!])),
  };
}

export function isClip(value: unknown): value is StepClip {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as StepClip).kind === "trellis.steps" &&
    Array.isArray((value as StepClip).steps) &&
    Array.isArray((value as StepClip).edges)
  );
}

export interface PasteResult {
  doc: CampaignDoc;
  /** The keys of the new steps, to select them. */
  keys: string[];
}

export function pasteSteps(
  doc: CampaignDoc,
  clip: StepClip,
  offset: XY = { x: 40, y: 40 },
  makeKey: () => string = newKey,
): PasteResult {
  const remap = new Map<string, string>();
  for (const step of clip.steps) remap.set(step.key, makeKey());
  const steps = clip.steps.map((s) => {
    const config = { ...(s.config ?? {}) };
    if (typeof config.target === "string" && remap.has(config.target)) config.target = remap.get(config.target)!;
    // Read-only fields (id, timing label) belong to the original step, not to the copy.
    const { id: _id, timing_label: _label, ...rest } = s;
    void _id;
    void _label;
    return { ...rest, key: remap.get(s.key)!, config };
  });
  const edges = clip.edges
    .filter((e) => e.source != null && remap.has(e.source) && remap.has(e.target))
    .map((e) => ({ source: remap.get(e.source!)!, target: remap.get(e.target)!, path: e.path ?? null }));
  const positions: Record<string, XY> = {};
  clip.steps.forEach((s, index) => {
    const at = clip.positions[s.key] ?? { x: index * 40, y: index * 40 };
    positions[remap.get(s.key)!] = { x: at.x + offset.x, y: at.y + offset.y };
  });
  const next = movePositions({ ...doc, events: [...doc.events, ...steps], edges: [...doc.edges, ...edges] }, positions);
  return { doc: next, keys: steps.map((s) => s.key) };
}
