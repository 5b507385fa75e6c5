/** The landing pages API calls and their cache keys, on the generated client. */
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, ifMatch, ok } from "../api/client";
import type { components } from "../api/schema.gen";

export type LandingPage = components["schemas"]["PageRead"];
export type PageCreate = components["schemas"]["PageCreate"];
export type PageUpdate = components["schemas"]["PageUpdate"];

export const pagesKey = ["pages"] as const;
export const pageKey = (id: number) => ["pages", "detail", id] as const;

export interface ListParams {
  page: number;
  size: number;
  q?: string;
  project?: number | null;
}

const paging = (page: number, size: number) => ({ "page[number]": page, "page[size]": size });
const pagePath = (id: number) => ({ path: { page_id: id } });

export const pagesApi = {
  list: async (p: ListParams) =>
    ok(
      await api.GET("/api/v2/pages", {
        params: {
          query: {
            ...paging(p.page, p.size),
            ...(p.q ? { q: p.q } : {}),
            ...(p.project != null ? { project: p.project } : {}),
          },
        },
      }),
    ),
  get: async (id: number) => ok(await api.GET("/api/v2/pages/{page_id}", { params: pagePath(id) })),
  create: async (body: PageCreate) => ok(await api.POST("/api/v2/pages", { body })),
  update: async (id: number, version: number, body: PageUpdate) =>
    ok(await api.PATCH("/api/v2/pages/{page_id}", { params: pagePath(id), headers: ifMatch(version), body })),
  remove: async (id: number) => {
    ok(await api.DELETE("/api/v2/pages/{page_id}", { params: pagePath(id) }));
  },
  clone: async (id: number) => ok(await api.POST("/api/v2/pages/{page_id}/clone", { params: pagePath(id) })),
  preview: async (id: number, html: string, css: string) =>
    ok(await api.POST("/api/v2/pages/{page_id}/preview", { params: pagePath(id), body: { html, css } })),
};

export function usePage(id: number | null) {
  return useQuery({
    queryKey: pageKey(id ?? 0),
    queryFn: () => pagesApi.get(id ?? 0),
    enabled: id !== null && Number.isInteger(id),
  });
}

export function usePagesList(params: ListParams) {
  return useQuery({
    queryKey: [...pagesKey, "list", params],
    queryFn: () => pagesApi.list(params),
    placeholderData: keepPreviousData,
  });
}
