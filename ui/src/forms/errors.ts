/**
 * Where a problem's JSON pointers land in the form editor: a setting ("/alias"), a field
 * attribute ("/fields/3/name", kept by the field's key so a later reorder does not move it), an
 * action's config ("/actions/1/config/segments"), or above the form when it names nothing known.
 */
import { ApiProblem, pointerTokens, type ProblemFieldError } from "../api/problem";

export interface EditorErrors {
  /** Messages per setting path: "name", "alias", "success/redirect_url", "allowed_origins". */
  settings: Record<string, string>;
  /** Per field key, messages per attribute path: "name", "options/0/value", "validation/min", "" (the field). */
  fields: Record<string, Record<string, string>>;
  /** Per action index, messages per path: "config/segments", "type", "" (the action). */
  actions: Record<number, Record<string, string>>;
  /** Messages that name no part of the editor. */
  general: string[];
}

export const NO_ERRORS: EditorErrors = { settings: {}, fields: {}, actions: {}, general: [] };

/** Settings the editor shows; a pointer into one of them (or below it) is shown on it. */
export const SETTINGS = [
  "name",
  "alias",
  "description",
  "projects",
  "is_published",
  "identify_by",
  "success",
  "success/kind",
  "success/message",
  "success/redirect_url",
  "allowed_origins",
] as const;

function add(target: Record<string, string>, key: string, detail: string) {
  const prev = target[key];
  target[key] = prev ? `${prev} ${detail}` : detail;
}

function isIndex(token: string | undefined): token is string {
  return token !== undefined && /^\d+$/.test(token);
}

/**
 * Spread field errors over the editor. `sentFieldKeys[i]` is the key of the field that was at
 * index i of the document sent, so "/fields/i/..." lands on that field wherever it is now.
 * Pointers may name a path under the request body ("/body/fields/0/name"), which is the same.
 */
export function mapErrors(
  errors: readonly Pick<ProblemFieldError, "pointer" | "detail">[],
  sentFieldKeys: readonly string[],
): EditorErrors {
  const out: EditorErrors = { settings: {}, fields: {}, actions: {}, general: [] };
  for (const err of errors) {
    let tokens = pointerTokens(err.pointer);
    if (tokens[0] === "body") tokens = tokens.slice(1);
    const [head, second, ...rest] = tokens;
    if (head === "fields" && isIndex(second)) {
      const key = sentFieldKeys[Number(second)];
      if (key !== undefined) {
        const bucket = (out.fields[key] ??= {});
        add(bucket, rest.join("/"), err.detail);
        continue;
      }
    }
    if (head === "actions" && isIndex(second)) {
      const bucket = (out.actions[Number(second)] ??= {});
      add(bucket, rest.join("/"), err.detail);
      continue;
    }
    const path = tokens.join("/");
    const setting = settingOf(path);
    if (setting) {
      add(out.settings, setting, err.detail);
      continue;
    }
    out.general.push(path ? `${path.replace(/\//g, ".")}: ${err.detail}` : err.detail);
  }
  return out;
}

/** The setting a path falls under: itself, or its nearest known ancestor. */
function settingOf(path: string): string | null {
  let candidate = path;
  while (candidate) {
    if ((SETTINGS as readonly string[]).includes(candidate)) return candidate;
    const cut = candidate.lastIndexOf("/");
    if (cut < 0) return null;
    candidate = candidate.slice(0, cut);
  }
  return null;
}

/** Errors of a failed save: the problem's field errors mapped, or its title as a general message. */
export function errorsFromProblem(problem: unknown, sentFieldKeys: readonly string[]): EditorErrors {
  if (!(problem instanceof ApiProblem)) {
    const text = problem instanceof Error ? problem.message : "Something went wrong.";
    return { ...NO_ERRORS, general: [text] };
  }
  const mapped = mapErrors(problem.errors, sentFieldKeys);
  if (!problem.errors.length) {
    mapped.general.push(
      problem.status === 412
        ? "Someone else changed this form since you opened it. Reload it and try again."
        : problem.detail || problem.title,
    );
  }
  return mapped;
}

/** Local problems keyed "fields/i/name" (see localProblems) as editor errors. */
export function errorsFromLocal(problems: Record<string, string>, fieldKeys: readonly string[]): EditorErrors {
  return mapErrors(
    Object.entries(problems).map(([path, detail]) => ({ pointer: `/${path}`, detail })),
    fieldKeys,
  );
}

/** Both kinds together (server errors first). */
export function mergeErrors(a: EditorErrors, b: EditorErrors): EditorErrors {
  const out: EditorErrors = {
    settings: { ...a.settings },
    fields: {},
    actions: {},
    general: [...a.general, ...b.general],
  };
  for (const [k, v] of Object.entries(b.settings)) add(out.settings, k, v);
  for (const src of [a, b]) {
    for (const [key, bucket] of Object.entries(src.fields)) {
      const target = (out.fields[key] ??= {});
      for (const [k, v] of Object.entries(bucket)) add(target, k, v);
    }
    for (const [index, bucket] of Object.entries(src.actions)) {
      const target = (out.actions[Number(index)] ??= {});
      for (const [k, v] of Object.entries(bucket)) add(target, k, v);
    }
  }
  return out;
}

/** The message of a setting, including those of paths under it ("allowed_origins/2"). */
export function settingError(errors: EditorErrors, name: string): string | undefined {
  return errors.settings[name];
}

/** Messages of one field attribute, including paths below it ("options" takes "options/0/value" too when asked with deep). */
export function fieldError(errors: EditorErrors, key: string, path: string, deep = false): string | undefined {
  const bucket = errors.fields[key];
  if (!bucket) return undefined;
  const found = Object.entries(bucket)
    .filter(([p]) => p === path || (deep && p.startsWith(`${path}/`)))
    .map(([, v]) => v);
  return found.length ? found.join(" ") : undefined;
}

/** Carbon's invalid props for a message. */
export function invalid(message: string | undefined): { invalid: boolean; invalidText?: string } {
  return message ? { invalid: true, invalidText: message } : { invalid: false };
}

/** How many messages concern a field (for the badge on its row in the list). */
export function fieldErrorCount(errors: EditorErrors, key: string): number {
  return Object.keys(errors.fields[key] ?? {}).length;
}
