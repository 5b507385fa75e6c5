/**
 * The campaign document as React Flow nodes and edges, and back. Node ids are step keys (the
 * sources node is SOURCES_ID); handle ids are the edge paths ("yes", "no", "b0"...) or "out".
 */
import type { CampaignDoc, EdgeDoc, EventTypeInfo, SourceDoc, StepDoc } from "../canvas/types";
import { layoutOf, SOURCES_ID, stepTitle, type XY } from "./doc";
import { branchCount, indexTypes, kindOf, outputsOf, type GraphProblem, type Kind, type TypeIndex } from "./graph";
import { autoLayout } from "./layout";
import { timingLabel } from "./timing";

export const OUT_HANDLE = "out";
export const IN_HANDLE = "in";

export interface StepCountsLike {
  scheduled: number;
  waiting: number;
  done: number;
  warned: number;
  failed: number;
  dead: number;
  yes: number;
  no: number;
  cancelled: number;
}

export interface OutputInfo {
  /** Handle id. */
  id: string;
  /** Edge path (null for an action's single output). */
  path: string | null;
  label: string;
}

export interface StepNodeData extends Record<string, unknown> {
  step: StepDoc;
  info: EventTypeInfo | undefined;
  kind: Kind | null;
  title: string;
  typeLabel: string;
  outputs: OutputInfo[];
  problems: string[];
  counts: StepCountsLike | null;
  readOnly: boolean;
}

export interface SourcesNodeData extends Record<string, unknown> {
  sources: SourceDoc[];
  names: Record<string, string>;
  problems: string[];
  readOnly: boolean;
  entered: number | null;
}

export interface FlowNode<D = StepNodeData | SourcesNodeData> {
  id: string;
  type: "step" | "sources";
  position: XY;
  data: D;
  selected?: boolean;
  deletable?: boolean;
  ariaLabel?: string;
}

export interface FlowEdge {
  id: string;
  source: string;
  target: string;
  sourceHandle: string;
  targetHandle: string;
  label: string;
  type: "smoothstep";
  className: string;
  ariaLabel: string;
  data: { edge: EdgeDoc };
}

export function pathLabel(path: string | null | undefined, parent?: StepDoc, types?: TypeIndex): string {
  if (path === "yes") return "Yes";
  if (path === "no") return "No";
  if (path && /^b\d$/.test(path)) {
    const index = Number(path.slice(1));
    const weights = parent?.config?.weights;
    if (Array.isArray(weights) && parent && types && branchCount(parent, types)) {
      const total = weights.reduce((sum: number, w) => sum + (Number(w) || 0), 0);
      const share = total > 0 ? Math.round(((Number(weights[index]) || 0) / total) * 100) : 0;
      return `Branch ${String.fromCharCode(65 + index)} (${share}%)`;
    }
    return `Branch ${String.fromCharCode(65 + index)}`;
  }
  return "";
}

export function edgeId(edge: EdgeDoc): string {
  return `${edge.source ?? SOURCES_ID}:${edge.path ?? OUT_HANDLE}->${edge.target}`;
}

/** The document edge a React Flow connection (or edge) stands for. */
export function edgeFromFlow(c: { source: string; sourceHandle?: string | null; target: string }): EdgeDoc {
  const source = c.source === SOURCES_ID ? null : c.source;
  const path = !c.sourceHandle || c.sourceHandle === OUT_HANDLE ? null : c.sourceHandle;
  return { source, target: c.target, path };
}

export interface FlowOptions {
  readOnly?: boolean;
  counts?: Record<string, StepCountsLike>;
  problems?: readonly GraphProblem[];
  sourceNames?: Record<string, string>;
  selected?: ReadonlySet<string>;
}

export function sourceKey(s: Pick<SourceDoc, "kind" | "id">): string {
  return `${s.kind}:${s.id}`;
}

/** The label of the edge into a step: its timing ("after 3 days", "within 2 days"). */
export function edgeLabel(edge: EdgeDoc, doc: CampaignDoc, types: TypeIndex): string {
  const steps = new Map(doc.events.map((e) => [e.key, e]));
  const parent = edge.source ? steps.get(edge.source) : undefined;
  const target = steps.get(edge.target);
  const decisionNo = !!parent && kindOf(parent, types) === "decision" && edge.path === "no";
  const timing = target ? timingLabel(target.timing, { decisionNo }) : "";
  // The node labels its outputs (Yes, No, Branch A), so the edge carries the timing only;
  // "immediately" is the default, and spelling it on every edge would only add noise.
  return timing === "immediately" ? "" : timing;
}

export function docToFlow(
  doc: CampaignDoc,
  eventTypes: readonly EventTypeInfo[] | TypeIndex,
  options: FlowOptions = {},
) {
  const types: TypeIndex = Array.isArray(eventTypes) ? indexTypes(eventTypes) : (eventTypes as TypeIndex);
  const layout = layoutOf(doc);
  const missing = doc.events.some((e) => !layout.nodes[e.key]) || !layout.sources;
  const fallback = missing ? autoLayout(doc, types) : {};
  const readOnly = options.readOnly ?? false;
  const problemsOf = new Map<string | null, string[]>();
  for (const p of options.problems ?? []) {
    const list = problemsOf.get(p.event) ?? [];
    if (!list.includes(p.detail)) list.push(p.detail);
    problemsOf.set(p.event, list);
  }
  let entered: number | null = null;
  if (options.counts) {
    const rootKeys = doc.edges.filter((e) => !e.source).map((e) => e.target);
    entered = rootKeys.reduce((sum, key) => {
      const c = options.counts?.[key];
      return (
        sum + (c ? c.scheduled + c.waiting + c.done + c.warned + c.failed + c.dead + c.cancelled + c.yes + c.no : 0)
      );
    }, 0);
  }
  const sourcesNode: FlowNode<SourcesNodeData> = {
    id: SOURCES_ID,
    type: "sources",
    position: layout.sources ?? fallback[SOURCES_ID] ?? { x: 0, y: 0 },
    data: {
      sources: doc.sources,
      names: options.sourceNames ?? {},
      problems: problemsOf.get(null) ?? [],
      readOnly,
      entered,
    },
    deletable: false,
    ariaLabel: "Sources: where contacts enter",
    selected: options.selected?.has(SOURCES_ID) ?? false,
  };
  const nodes: FlowNode[] = [sourcesNode];
  for (const step of doc.events) {
    const info = types.get(step.type);
    const title = stepTitle(step, types);
    const kind = kindOf(step, types);
    const outputs = outputsOf(step, types).map((path) => ({
      id: path ?? OUT_HANDLE,
      path,
      label: pathLabel(path, step, types),
    }));
    nodes.push({
      id: step.key,
      type: "step",
      position: layout.nodes[step.key] ?? fallback[step.key] ?? { x: 0, y: 0 },
      data: {
        step,
        info,
        kind,
        title,
        typeLabel: info?.label ?? step.type,
        outputs,
        problems: problemsOf.get(step.key) ?? [],
        counts: options.counts?.[step.key] ?? null,
        readOnly,
      },
      deletable: !readOnly,
      ariaLabel: `${kind ?? "step"}: ${title}`,
      selected: options.selected?.has(step.key) ?? false,
    });
  }
  const keys = new Set(doc.events.map((e) => e.key));
  const edges: FlowEdge[] = doc.edges
    .filter((e) => keys.has(e.target) && (!e.source || keys.has(e.source)))
    .map((edge) => {
      const label = edgeLabel(edge, doc, types);
      const parent = edge.source ? doc.events.find((e) => e.key === edge.source) : undefined;
      const parentTitle = parent ? stepTitle(parent, types) : "Sources";
      const target = doc.events.find((e) => e.key === edge.target)!;
      return {
        id: edgeId(edge),
        source: edge.source ?? SOURCES_ID,
        target: edge.target,
        sourceHandle: edge.path ?? OUT_HANDLE,
        targetHandle: IN_HANDLE,
        label,
        type: "smoothstep" as const,
        className: `trellis-edge trellis-edge--${edge.path ?? "next"}`,
        ariaLabel: `From ${parentTitle}${edge.path ? ` (${pathLabel(edge.path, parent, types)})` : ""} to ${stepTitle(target, types)}${label ? `, ${label}` : ""}`,
        data: { edge },
      };
    });
  return { nodes, edges };
}
