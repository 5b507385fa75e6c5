/** Data retention and personal-data requests through the generated client. */
import { api, ok } from "../api/client";
import type { components } from "../api/schema.gen";

export type RetentionPolicy = components["schemas"]["RetentionPolicyRead"];
export type RetentionPolicyUpdate = components["schemas"]["RetentionPolicyUpdate"];
export type CleanupRun = components["schemas"]["CleanupRunRead"];
export type ConsentRecord = components["schemas"]["ConsentRead"];
export type PolicyName = RetentionPolicy["name"];

export const privacyKey = ["privacy"] as const;
export const policiesKey = [...privacyKey, "policies"] as const;
export const runsKey = (page: number, size: number) => [...privacyKey, "runs", page, size] as const;
export const consentsKey = (contactId: number) => [...privacyKey, "consents", contactId] as const;

export const privacyApi = {
  policies: async () => ok(await api.GET("/api/v2/privacy/retention")),
  updatePolicy: async (name: PolicyName, body: RetentionPolicyUpdate) =>
    ok(await api.PATCH("/api/v2/privacy/retention/{name}", { params: { path: { name } }, body })),
  cleanup: async (dryRun: boolean, policies?: PolicyName[]) =>
    ok(await api.POST("/api/v2/privacy/cleanup", { body: { dry_run: dryRun, policies: policies ?? null } })),
  runs: async (page: number, size: number) =>
    ok(
      await api.GET("/api/v2/privacy/cleanup/runs", {
        params: { query: { "page[number]": page, "page[size]": size } },
      }),
    ),
  consents: async (contactId: number) =>
    ok(
      await api.GET("/api/v2/contacts/{contact_id}/consents", {
        params: { path: { contact_id: contactId }, query: { "page[size]": 100 } },
      }),
    ),
  erase: async (contactId: number) =>
    ok(await api.POST("/api/v2/contacts/{contact_id}/erase", { params: { path: { contact_id: contactId } } })),
};

/** Where the browser downloads a contact's personal data (a ZIP; the session cookie signs it). */
export function exportUrl(contactId: number): string {
  return `/api/v2/contacts/${contactId}/personal-data`;
}

/** "30 days", "1 day", "36 months". */
export function periodText(period: number, unit: RetentionPolicy["unit"]): string {
  const word = unit === "months" ? "month" : "day";
  return `${period} ${word}${period === 1 ? "" : "s"}`;
}

/** "page_hits 3 · tracking_hits 1", the tables a run touched, or "nothing". */
export function runDetails(run: Pick<CleanupRun, "details">): string {
  const parts = Object.entries(run.details)
    .filter(([, rows]) => rows > 0)
    .map(([table, rows]) => `${table.replace(/_/g, " ")} ${rows.toLocaleString("en")}`);
  return parts.length ? parts.join(" · ") : "nothing";
}

/** What a run did, in a sentence: "Removed 1,204 rows", "Would remove 3 rows", "Failed: ...". */
export function runOutcome(run: Pick<CleanupRun, "status" | "dry_run" | "rows" | "error">): string {
  if (run.status === "queued") return "Waiting to start";
  if (run.status === "running") return "Running";
  if (run.status === "failed") return `Failed: ${run.error ?? "unknown error"}`;
  const rows = `${run.rows.toLocaleString("en")} row${run.rows === 1 ? "" : "s"}`;
  return run.dry_run ? `Would remove ${rows}` : `Removed ${rows}`;
}
