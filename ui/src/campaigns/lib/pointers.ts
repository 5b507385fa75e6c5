/**
 * The server's validation pointers ("/events/3/config/url", "/edges/2/target", "/name") turned
 * into what the builder shows: a problem on a step and the field of its panel, or a campaign
 * setting, or the sources node.
 */
import { pointerTokens, type ProblemFieldError } from "../../api/problem";
import type { CampaignDoc } from "../canvas/types";
import type { GraphProblem } from "./graph";

export interface LocatedProblem extends GraphProblem {
  /** For campaign settings and sources: the pointer's path ("name", "sources/0/id"). */
  setting?: string;
}

export function locate(
  errors: readonly Pick<ProblemFieldError, "pointer" | "detail">[],
  doc: CampaignDoc,
): LocatedProblem[] {
  return errors.map((err) => {
    const tokens = pointerTokens(err.pointer);
    const [head, index, ...rest] = tokens;
    const at = index !== undefined && /^\d+$/.test(index) ? Number(index) : -1;
    if (head === "events" && at >= 0 && doc.events[at]) {
      return { event: doc.events[at].key, field: rest.join("/") || "step", detail: err.detail };
    }
    if (head === "edges" && at >= 0 && doc.edges[at]) {
      const edge = doc.edges[at];
      return { event: edge.target, field: "parent", detail: err.detail };
    }
    if (head === "on_delete" && index) {
      return { event: null, field: "on_delete", setting: `on_delete/${index}`, detail: err.detail };
    }
    return { event: null, field: tokens[0] ?? "", setting: tokens.join("/"), detail: err.detail };
  });
}

/** The config field errors of one step, keyed by their path inside the config ("headers/0/name"). */
export function configErrors(problems: readonly GraphProblem[], key: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of problems) {
    if (p.event !== key) continue;
    const field = p.field === "config" ? "" : p.field.startsWith("config/") ? p.field.slice(7) : null;
    if (field === null) continue;
    out[field] = out[field] ? `${out[field]} ${p.detail}` : p.detail;
  }
  return out;
}

/** Counts of contacts waiting on removed steps, from the 409 the save answers with. */
export function waitingOnRemoved(
  errors: readonly Pick<ProblemFieldError, "pointer" | "detail">[],
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const err of errors) {
    const [head, key] = pointerTokens(err.pointer);
    if (head !== "on_delete" || !key) continue;
    const count = /(\d+)/.exec(err.detail);
    out[key] = count ? Number(count[1]) : 0;
  }
  return out;
}
