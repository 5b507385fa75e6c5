/** Email queries shared by the pages: cache keys, the statistics, and the sends lists. */
import { useQuery } from "@tanstack/react-query";
import { api, ok } from "../api/client";
import { problemFromResponse } from "../api/problem";
import type { EmailStats } from "./types";

export const emailsKey = ["emails"] as const;
export const emailKey = (id: number) => ["emails", "detail", id] as const;
export const emailStatsKey = (id: number) => ["emails", "stats", id] as const;

/**
 * The email's statistics, or null while the server has no statistics endpoint (it answers 404
 * for the path; a 404 for a missing email is not possible here, the email was just read).
 * Read without the generated client because the endpoint is not in its OpenAPI document yet.
 */
export async function fetchEmailStats(emailId: number): Promise<EmailStats | null> {
  const response = await fetch(`/api/v2/emails/${emailId}/stats`, {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  });
  if (response.status === 404 || response.status === 405) return null;
  if (!response.ok) throw await problemFromResponse(response);
  return (await response.json()) as EmailStats;
}

export function useEmailStats(emailId: number | null, enabled = true) {
  return useQuery({
    queryKey: emailStatsKey(emailId ?? 0),
    queryFn: () => fetchEmailStats(emailId ?? 0),
    enabled: enabled && emailId !== null,
    staleTime: 15_000,
    retry: false,
  });
}

/** "12.5%" of a part of a whole; "—" when the whole is zero. */
export function rate(part: number, whole: number): string {
  if (!whole) return "—";
  const pct = (part / whole) * 100;
  return `${pct >= 10 || pct === 0 ? pct.toFixed(0) : pct.toFixed(1)}%`;
}

/** Every project, for the filters and the editor (empty when the user may not see projects). */
export function useProjects(enabled: boolean) {
  return useQuery({
    queryKey: ["projects", "all"],
    queryFn: async () =>
      ok(await api.GET("/api/v2/projects", { params: { query: { "page[size]": 500, sort: "name" } } })).data,
    staleTime: 60_000,
    enabled,
  });
}
