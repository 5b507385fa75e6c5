import type { Middleware } from "openapi-fetch";
import { problemFromResponse } from "./problem";

export const CSRF_COOKIE = "trellis_csrf";
export const CSRF_HEADER = "X-CSRF-Token";

const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Value of one cookie in a `document.cookie` string, or null. */
export function readCookie(cookieString: string, name: string): string | null {
  for (const part of cookieString.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      try {
        return decodeURIComponent(value);
      } catch {
        return value;
      }
    }
  }
  return null;
}

/**
 * Sends the CSRF token (from the `trellis_csrf` cookie) on every state-changing request, and
 * turns every non-2xx response into a thrown ApiProblem.
 */
export function trellisMiddleware(getCookies: () => string = () => document.cookie): Middleware {
  return {
    onRequest({ request }) {
      if (UNSAFE_METHODS.has(request.method.toUpperCase())) {
        const token = readCookie(getCookies(), CSRF_COOKIE);
        if (token) request.headers.set(CSRF_HEADER, token);
      }
      return request;
    },
    async onResponse({ response }) {
      if (!response.ok) throw await problemFromResponse(response);
      return undefined;
    },
  };
}
