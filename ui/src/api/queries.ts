/** Shared lookups (fields, stages, users, tags) with their cache keys, used across pages. */
import { useQuery } from "@tanstack/react-query";
import { useAuth } from "../auth/AuthContext";
import { canView } from "../lib/permissions";
import { RESOURCES } from "../lib/resources";
import { api, ok } from "./client";

export type FieldObject = "contact" | "company";

export const fieldsKey = (object: FieldObject) => ["fields", object] as const;

export function useFields(object: FieldObject = "contact", enabled = true) {
  return useQuery({
    queryKey: fieldsKey(object),
    queryFn: async () => ok(await api.GET("/api/v2/fields", { params: { query: { object } } })),
    staleTime: 60_000,
    enabled,
  });
}

export function useStages(enabled = true) {
  return useQuery({
    queryKey: ["stages", "all"],
    queryFn: async () => ok(await api.GET("/api/v2/stages")),
    staleTime: 60_000,
    enabled,
  });
}

/** Users for owner pickers; empty (not an error) when the user may not list users. */
export function useOwners(enabled = true) {
  const { me } = useAuth();
  const allowed = canView(me, RESOURCES.users);
  return useQuery({
    queryKey: ["users", "owners"],
    queryFn: async () =>
      ok(await api.GET("/api/v2/users", { params: { query: { "page[size]": 500, sort: "email" } } })).data,
    staleTime: 60_000,
    enabled: enabled && allowed,
  });
}

export function useTagSuggestions(q: string, enabled = true) {
  return useQuery({
    queryKey: ["tags", "suggest", q],
    queryFn: async () =>
      ok(await api.GET("/api/v2/tags", { params: { query: { "page[size]": 20, ...(q ? { q } : {}) } } })).data,
    staleTime: 30_000,
    enabled,
  });
}

/** "Ada Lovelace", else the email, else "Contact 12". */
export function contactName(c: {
  id: number;
  first_name?: string | null;
  last_name?: string | null;
  email?: string | null;
}): string {
  const name = [c.first_name, c.last_name].filter(Boolean).join(" ");
  return name || c.email || `Contact ${c.id}`;
}
