import createClient from "openapi-fetch";
import { trellisMiddleware } from "./csrf";
import type { paths } from "./schema.gen";

import { ApiProblem, type ProblemBody } from "./problem";

export { ApiProblem };

/** The one API client of the UI: same-origin cookies, CSRF header, problems thrown as ApiProblem. */
export const api = createClient<paths>({ baseUrl: "", credentials: "same-origin" });
api.use(trellisMiddleware());

/**
 * Data of a successful call. The middleware throws for every non-2xx response, so reaching an
 * undefined `data` means a body-less success (204).
 */
export function ok<T>(result: { data?: T; error?: unknown; response?: Response }): T {
  if (result.error !== undefined) throw asProblem(result.error, result.response?.status ?? 500);
  return result.data as T;
}

/** Only Errors are thrown, so callers' `instanceof` checks see a raw error body as an ApiProblem too. */
function asProblem(error: unknown, status: number): Error {
  if (error instanceof Error) return error;
  const body = typeof error === "object" && error !== null ? (error as ProblemBody) : {};
  return new ApiProblem(body, status);
}

/** The If-Match header for an edit of an entity read at `version`. */
export function ifMatch(version: number): { "If-Match": string } {
  return { "If-Match": `"${version}"` };
}
