import createClient from "openapi-fetch";
import { trellisMiddleware } from "./csrf";
import type { paths } from "./schema.gen";

export { ApiProblem } from "./problem";

/** The one API client of the UI: same-origin cookies, CSRF header, problems thrown as ApiProblem. */
export const api = createClient<paths>({ baseUrl: "", credentials: "same-origin" });
api.use(trellisMiddleware());

/**
 * Data of a successful call. The middleware throws for every non-2xx response, so reaching an
 * undefined `data` means a body-less success (204).
 */
export function ok<T>(result: { data?: T; error?: unknown }): T {
  if (result.error !== undefined) throw result.error;
  return result.data as T;
}

/** The If-Match header for an edit of an entity read at `version`. */
export function ifMatch(version: number): { "If-Match": string } {
  return { "If-Match": `"${version}"` };
}
