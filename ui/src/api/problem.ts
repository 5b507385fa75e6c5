/** RFC 9457 problem details, as the Trellis API returns them, turned into a typed error. */

export interface ProblemFieldError {
  /** JSON pointer (RFC 6901) into the request document, e.g. "/email". */
  pointer: string;
  detail: string;
  code: string;
}

export interface ProblemBody {
  type?: string;
  title?: string;
  status?: number;
  detail?: string | null;
  errors?: ProblemFieldError[] | null;
  /** RFC 9457 extension members, e.g. the steps contacts wait on when a deletion is refused. */
  [extension: string]: unknown;
}

const STANDARD_MEMBERS = new Set(["type", "title", "status", "detail", "instance", "errors"]);

export class ApiProblem extends Error {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance: string | undefined;
  readonly errors: ProblemFieldError[];
  /** Every member the problem carries beyond the standard ones. */
  readonly extensions: Readonly<Record<string, unknown>>;

  constructor(body: ProblemBody, status: number) {
    const title = body.title || statusTitle(status);
    const detail = body.detail ?? "";
    super(detail || title);
    this.name = "ApiProblem";
    this.type = body.type ?? "about:blank";
    this.title = title;
    this.status = body.status ?? status;
    this.detail = detail;
    this.instance = typeof body.instance === "string" ? body.instance : undefined;
    this.errors = Array.isArray(body.errors) ? body.errors.filter(isFieldError) : [];
    this.extensions = Object.fromEntries(Object.entries(body).filter(([name]) => !STANDARD_MEMBERS.has(name)));
  }
}

function isFieldError(value: unknown): value is ProblemFieldError {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.pointer === "string" && typeof v.detail === "string";
}

function statusTitle(status: number): string {
  switch (status) {
    case 400:
      return "Bad request";
    case 401:
      return "Not authenticated";
    case 403:
      return "Permission denied";
    case 404:
      return "Not found";
    case 409:
      return "Conflict";
    case 412:
      return "Changed by someone else";
    case 422:
      return "Validation failed";
    case 429:
      return "Too many requests";
    default:
      return status >= 500 ? "Server error" : `Request failed (${status})`;
  }
}

/** Read a failed response's body into an ApiProblem, whatever the body turned out to be. */
export async function problemFromResponse(response: Response): Promise<ApiProblem> {
  let body: ProblemBody = {};
  const type = response.headers.get("content-type") ?? "";
  if (type.includes("json")) {
    try {
      const parsed: unknown = await response.clone().json();
      if (typeof parsed === "object" && parsed !== null) body = parsed as ProblemBody;
    } catch {
      // not JSON after all: keep the generic title
    }
  }
  return new ApiProblem(body, response.status);
}

/** Decode one JSON pointer into its reference tokens ("/a~1b/0" -> ["a/b", "0"]). */
export function pointerTokens(pointer: string): string[] {
  if (pointer === "" || pointer === "/") return [];
  const raw = pointer.startsWith("/") ? pointer.slice(1) : pointer;
  return raw.split("/").map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/**
 * Field name a form uses for a pointer: tokens joined by ".", so "/email" -> "email" and
 * "/permissions/projects" -> "permissions.projects". The empty pointer names the whole document.
 */
export function pointerToField(pointer: string): string {
  return pointerTokens(pointer).join(".");
}

export interface FormErrors {
  /** Messages per field name (see pointerToField). */
  fields: Record<string, string>;
  /** Messages that name no field of the form: shown above it. */
  general: string[];
}

/**
 * Split a problem into messages per form field and general messages. A pointer whose field is
 * not in `knownFields` (when given) is shown in general, so no error is ever silently dropped.
 * Several messages for one field are joined with a space.
 */
export function problemToFormErrors(problem: unknown, knownFields?: readonly string[]): FormErrors {
  const result: FormErrors = { fields: {}, general: [] };
  if (!(problem instanceof ApiProblem)) {
    if (problem instanceof Error) result.general.push(problem.message);
    // A thrown plain object would read "[object Object]"; the generic sentence says more.
    else if (typeof problem === "string" || typeof problem === "number" || typeof problem === "boolean") {
      result.general.push(String(problem));
    } else if (problem !== undefined && problem !== null) result.general.push(describeError(problem));
    return result;
  }
  for (const err of problem.errors) {
    const field = matchField(pointerToField(err.pointer), knownFields);
    if (field === null) {
      const label = pointerToField(err.pointer);
      result.general.push(label ? `${label}: ${err.detail}` : err.detail);
      continue;
    }
    const prev = result.fields[field];
    result.fields[field] = prev ? `${prev} ${err.detail}` : err.detail;
  }
  if (problem.errors.length === 0 || (Object.keys(result.fields).length === 0 && result.general.length === 0)) {
    result.general.push(problem.detail || problem.title);
  }
  return result;
}

/** The form field a pointer's path belongs to: itself, or its nearest known ancestor. */
function matchField(path: string, knownFields?: readonly string[]): string | null {
  if (path === "") return null;
  if (!knownFields) return path;
  let candidate = path;
  for (;;) {
    if (knownFields.includes(candidate)) return candidate;
    const cut = candidate.lastIndexOf(".");
    if (cut < 0) return null;
    candidate = candidate.slice(0, cut);
  }
}

/** One human sentence for a failure, for toasts and inline notifications. */
export function describeError(error: unknown): string {
  if (error instanceof ApiProblem) {
    if (error.status === 412) {
      return "Someone else changed this item since you opened it. Reload it and try again.";
    }
    return error.detail ? `${error.title}: ${error.detail}` : error.title;
  }
  if (error instanceof Error) return error.message;
  return "Something went wrong.";
}
