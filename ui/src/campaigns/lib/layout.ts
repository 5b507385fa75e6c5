/**
 * Auto-layout of the campaign, top to bottom. The graph is a forest (every step has at most one
 * parent; loops go through jump-to-step), so a tidy tree layout fits it exactly: each subtree
 * gets the width it needs, children sit left to right in the order of their parent's outputs
 * (yes left of no, b0 left of b1, matching the handles) and a parent is centred over them.
 * A general layered layout (dagre) was tried first; it reorders siblings to cut crossings and
 * so could draw a no branch under the yes handle.
 */
import type { CampaignDoc } from "../canvas/types";
import { SOURCES_ID, type XY } from "./doc";
import { outputsOf, type TypeIndex } from "./graph";

export const NODE_WIDTH = 240;
export const NODE_HEIGHT = 88;
export const SOURCES_WIDTH = 280;
const GAP_X = 48;
const RANK_Y = 180;

/** Positions (top-left corners) for the sources node and every step. */
export function autoLayout(doc: CampaignDoc, types: TypeIndex): Record<string, XY> {
  const steps = new Map(doc.events.map((e) => [e.key, e]));
  const rank = (source: string | null, path: string | null): number => {
    if (source === null) return 0;
    const step = steps.get(source);
    return step ? Math.max(0, outputsOf(step, types).indexOf(path)) : 0;
  };
  const children = new Map<string, string[]>();
  const hasParent = new Set<string>();
  const ordered = [...doc.edges]
    .map((e, index) => ({ e, index }))
    .sort(
      (a, b) =>
        rank(a.e.source ?? null, a.e.path ?? null) - rank(b.e.source ?? null, b.e.path ?? null) || a.index - b.index,
    );
  for (const { e } of ordered) {
    const source = e.source ?? SOURCES_ID;
    if (!steps.has(e.target) || hasParent.has(e.target)) continue;
    if (source !== SOURCES_ID && !steps.has(source)) continue;
    hasParent.add(e.target);
    children.set(source, [...(children.get(source) ?? []), e.target]);
  }
  const widthOf = (id: string) => (id === SOURCES_ID ? SOURCES_WIDTH : NODE_WIDTH);
  const span = new Map<string, number>();
  const measuring = new Set<string>();
  const measure = (id: string): number => {
    const known = span.get(id);
    if (known !== undefined) return known;
    // A loop in broken data: lay the step out as a leaf rather than recurse for ever.
    if (measuring.has(id)) return widthOf(id);
    measuring.add(id);
    const kids = children.get(id) ?? [];
    const total = kids.reduce((sum, k) => sum + measure(k), 0) + Math.max(0, kids.length - 1) * GAP_X;
    const width = Math.max(widthOf(id), total);
    span.set(id, width);
    return width;
  };
  const out: Record<string, XY> = {};
  const place = (id: string, left: number, depth: number) => {
    if (out[id]) return;
    const width = measure(id);
    out[id] = { x: Math.round(left + (width - widthOf(id)) / 2), y: depth * RANK_Y };
    const kids = children.get(id) ?? [];
    const total = kids.reduce((sum, k) => sum + measure(k), 0) + Math.max(0, kids.length - 1) * GAP_X;
    let x = left + (width - total) / 2;
    for (const kid of kids) {
      place(kid, x, depth + 1);
      x += measure(kid) + GAP_X;
    }
  };
  place(SOURCES_ID, 0, 0);
  // Steps not connected yet (or hanging off a loop) start their own trees to the right.
  let right = measure(SOURCES_ID) + GAP_X * 2;
  for (const step of doc.events) {
    if (out[step.key]) continue;
    place(step.key, right, 1);
    right += measure(step.key) + GAP_X;
  }
  return out;
}
