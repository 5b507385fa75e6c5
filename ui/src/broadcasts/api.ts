/** Broadcast queries shared by the pages: cache keys and the pickers' lists. */
import { useQuery } from "@tanstack/react-query";
import { api, ok } from "../api/client";

export const broadcastsKey = ["broadcasts"] as const;
export const broadcastKey = (id: number) => ["broadcasts", "detail", id] as const;

/** Emails a broadcast can send: kind "broadcast" (published or not; scheduling needs it published). */
export function useBroadcastEmails() {
  return useQuery({
    queryKey: ["emails", "broadcast-kind"],
    queryFn: async () =>
      ok(await api.GET("/api/v2/emails", { params: { query: { kind: "broadcast", "page[size]": 500, sort: "name" } } }))
        .data,
    staleTime: 30_000,
  });
}

export function useAllSegments() {
  return useQuery({
    queryKey: ["segments", "all"],
    queryFn: async () =>
      ok(await api.GET("/api/v2/segments", { params: { query: { "page[size]": 500, sort: "name" } } })).data,
    staleTime: 60_000,
  });
}
