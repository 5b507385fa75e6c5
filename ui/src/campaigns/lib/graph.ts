/**
 * The connection rules of the campaign graph, mirrored from src/trellis/engine/graph.py so the
 * canvas refuses an illegal connection on the spot, with the same reason the server would give.
 * The server stays the judge: POST /campaigns/validate runs the real rules.
 */
import type { CampaignDoc, EdgeDoc, EventTypeInfo, StepDoc } from "../canvas/types";
import { isImmediate } from "./timing";

export type Kind = "action" | "condition" | "decision";
export type TypeIndex = ReadonlyMap<string, EventTypeInfo>;

export function indexTypes(types: readonly EventTypeInfo[]): Map<string, EventTypeInfo> {
  return new Map(types.map((t) => [t.key, t]));
}

export function kindOf(step: Pick<StepDoc, "type" | "kind">, types: TypeIndex): Kind | null {
  const kind = types.get(step.type)?.kind ?? step.kind;
  return kind === "action" || kind === "condition" || kind === "decision" ? kind : null;
}

/** The number of branches of a split (random split: one per weight), 0 for everything else. */
export function branchCount(step: Pick<StepDoc, "type" | "config">, types: TypeIndex): number {
  const info = types.get(step.type);
  const weightsSchema = (info?.schema as { properties?: Record<string, { default?: unknown }> } | undefined)?.properties
    ?.weights;
  if (!info || info.kind !== "condition" || !weightsSchema) return 0;
  const weights = step.config?.weights ?? weightsSchema.default;
  return Array.isArray(weights) ? weights.length : 0;
}

/** The outputs of a step: [] for none (a leaf), [null] for an action's single output. */
export function outputsOf(step: Pick<StepDoc, "type" | "config" | "kind">, types: TypeIndex): (string | null)[] {
  const info = types.get(step.type);
  if (info?.leaf) return [];
  const branches = branchCount(step, types);
  if (branches) return Array.from({ length: branches }, (_, i) => `b${i}`);
  const kind = kindOf(step, types);
  if (kind === "condition" || kind === "decision") return ["yes", "no"];
  return [null];
}

/** Mirrors branch_paths(): the paths an edge from this step must carry ([] for actions). */
export function branchPaths(step: Pick<StepDoc, "type" | "config" | "kind">, types: TypeIndex): string[] {
  const branches = branchCount(step, types);
  if (branches) return Array.from({ length: branches }, (_, i) => `b${i}`);
  const kind = kindOf(step, types);
  return kind === "condition" || kind === "decision" ? ["yes", "no"] : [];
}

export interface ConnectRequest {
  /** null: from the campaign's sources. */
  source: string | null;
  path: string | null;
  target: string;
}

function labelOf(type: string, types: TypeIndex): string {
  return types.get(type)?.label ?? type;
}

/** True when `ancestor` is `key` or above it in the graph (following edges upwards). */
export function isAncestor(doc: Pick<CampaignDoc, "edges">, ancestor: string, key: string): boolean {
  const parentOf = new Map(doc.edges.map((e) => [e.target, e.source ?? null]));
  const seen = new Set<string>();
  let current: string | null = key;
  while (current !== null && !seen.has(current)) {
    if (current === ancestor) return true;
    seen.add(current);
    current = parentOf.get(current) ?? null;
  }
  return false;
}

/**
 * Why a connection may not be made, or null when it may. The reasons match the server's
 * wording (engine/graph.py) so what the canvas says on the spot and what validation says later
 * agree.
 */
export function connectionRefusal(doc: CampaignDoc, types: TypeIndex, request: ConnectRequest): string | null {
  const steps = new Map(doc.events.map((e) => [e.key, e]));
  const target = steps.get(request.target);
  if (!target) return "Connect to a step of this campaign.";
  const targetInfo = types.get(target.type);
  if (request.source === request.target) return "A step cannot connect to itself; use jump to step for loops.";
  const existing = doc.edges.find((e) => e.target === request.target);
  if (existing && !((existing.source ?? null) === request.source && (existing.path ?? null) === request.path)) {
    return "A step has a single incoming connection; use jump to step to join branches.";
  }
  if (request.source === null) {
    if (request.path !== null) return "A first step has no path.";
    if (targetInfo?.parent_types.length) {
      return `${labelOf(target.type, types)} must follow one of: ${targetInfo.parent_types.map((t) => labelOf(t, types)).join(", ")}.`;
    }
    return null;
  }
  const parent = steps.get(request.source);
  if (!parent) return "Connect from a step of this campaign.";
  const parentInfo = types.get(parent.type);
  if (parentInfo?.leaf) return `Nothing may follow ${labelOf(parent.type, types)}: it ends the journey.`;
  const paths = branchPaths(parent, types);
  if (paths.length && (request.path === null || !paths.includes(request.path))) {
    return `Connect to one of the outputs ${paths.join(", ")} of the step before.`;
  }
  if (!paths.length && request.path !== null) return "An action has a single output; drop the path.";
  if (kindOf(parent, types) === "decision" && kindOf(target, types) === "decision") {
    return "A decision cannot follow a decision directly; put an action or a condition between them.";
  }
  if (targetInfo?.parent_types.length && !targetInfo.parent_types.includes(parent.type)) {
    return `${labelOf(target.type, types)} must follow one of: ${targetInfo.parent_types.map((t) => labelOf(t, types)).join(", ")}.`;
  }
  if (isAncestor(doc, request.target, request.source)) {
    return "The steps would form a loop; use jump to step for loops.";
  }
  return null;
}

/** The step types that may be added on an output (for the "+" menu on a handle). */
export function typesAllowedAt(
  doc: CampaignDoc,
  types: readonly EventTypeInfo[],
  at: { source: string | null; path: string | null },
): EventTypeInfo[] {
  const index = indexTypes(types);
  const probeKey = "__probe__";
  return types.filter((t) => {
    const probe: CampaignDoc = { ...doc, events: [...doc.events, { key: probeKey, type: t.key, config: {} }] };
    return connectionRefusal(probe, index, { source: at.source, path: at.path, target: probeKey }) === null;
  });
}

export interface GraphProblem {
  /** The step concerned; null for the campaign (sources, settings). */
  event: string | null;
  /** "type", "parent", "path", "timing", "config/target", ... as the server names them. */
  field: string;
  detail: string;
}

/** The problems the canvas can see without the server: mirrors validate() of engine/graph.py. */
export function localProblems(doc: CampaignDoc, types: TypeIndex): GraphProblem[] {
  const problems: GraphProblem[] = [];
  const steps = new Map(doc.events.map((e) => [e.key, e]));
  const incoming = new Map<string, EdgeDoc>();
  for (const edge of doc.edges) {
    if (incoming.has(edge.target)) {
      problems.push({
        event: edge.target,
        field: "parent",
        detail: "A step has a single incoming connection; use jump to step to join branches.",
      });
      continue;
    }
    incoming.set(edge.target, edge);
  }
  for (const step of doc.events) {
    const info = types.get(step.type);
    if (!info) {
      problems.push({ event: step.key, field: "type", detail: `Unknown event type '${step.type}'.` });
      continue;
    }
    const edge = incoming.get(step.key);
    if (!edge) {
      problems.push({ event: step.key, field: "parent", detail: "This step is not connected to anything." });
      continue;
    }
    const source = edge.source ?? null;
    const parent = source === null ? null : steps.get(source);
    if (source !== null && !parent) {
      problems.push({
        event: step.key,
        field: "parent",
        detail: "The step is connected to a step that does not exist.",
      });
      continue;
    }
    const refusal = connectionRefusal({ ...doc, edges: doc.edges.filter((e) => e !== edge) }, types, {
      source,
      path: edge.path ?? null,
      target: step.key,
    });
    if (refusal) problems.push({ event: step.key, field: "parent", detail: refusal });
    if (parent && kindOf(parent, types) === "decision" && edge.path === "no" && isImmediate(step.timing)) {
      problems.push({
        event: step.key,
        field: "timing",
        detail: "A step on a decision's no path needs a delay: it is the time the contact has to act.",
      });
    }
    if (
      info.kind === "decision" &&
      (step.timing as { mode?: string } | undefined)?.mode &&
      (step.timing as { mode?: string }).mode !== "immediate"
    ) {
      problems.push({
        event: step.key,
        field: "timing",
        detail: "A decision waits for the contact; it has no timing of its own.",
      });
    }
    if (info.jumps) {
      const target = step.config?.target;
      if (typeof target !== "string" || !steps.has(target)) {
        problems.push({
          event: step.key,
          field: "config/target",
          detail: "Choose a step of this campaign to jump to.",
        });
      } else if (target === step.key) {
        problems.push({ event: step.key, field: "config/target", detail: "A step cannot jump to itself." });
      }
    }
  }
  return problems;
}
