/** The assets API calls and their cache keys. Uploads are multipart on the generated client. */
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, ifMatch, ok } from "../api/client";
import type { components } from "../api/schema.gen";

export type Asset = components["schemas"]["AssetRead"];
export type AssetUpdate = components["schemas"]["AssetUpdate"];

export const assetsKey = ["assets"] as const;

export interface ListParams {
  page: number;
  size: number;
  q?: string;
  project?: number | null;
}

export interface UploadFields {
  name?: string;
  description?: string;
  slug?: string;
  is_published?: boolean;
  gate_form_id?: number | null;
  projects?: number[];
}

/** The multipart body of an upload: the file and the asset's fields as form fields. */
export function uploadBody(file: Blob, filename: string, fields: UploadFields): FormData {
  const fd = new FormData();
  fd.append("file", file, filename);
  if (fields.name) fd.append("name", fields.name);
  if (fields.description) fd.append("description", fields.description);
  if (fields.slug) fd.append("slug", fields.slug);
  fd.append("is_published", fields.is_published ? "true" : "false");
  if (fields.gate_form_id) fd.append("gate_form_id", String(fields.gate_form_id));
  fd.append("projects", JSON.stringify(fields.projects ?? []));
  return fd;
}

/** "1.2 MB" */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 10 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

const paging = (page: number, size: number) => ({ "page[number]": page, "page[size]": size });
const assetPath = (id: number) => ({ path: { asset_id: id } });

export const assetsApi = {
  list: async (p: ListParams) =>
    ok(
      await api.GET("/api/v2/assets", {
        params: {
          query: {
            ...paging(p.page, p.size),
            ...(p.q ? { q: p.q } : {}),
            ...(p.project != null ? { project: p.project } : {}),
          },
        },
      }),
    ),
  upload: async (file: File, fields: UploadFields) =>
    ok<Asset>(await api.POST("/api/v2/assets", { body: uploadBody(file, file.name, fields) as never })),
  update: async (id: number, version: number, body: AssetUpdate) =>
    ok(await api.PATCH("/api/v2/assets/{asset_id}", { params: assetPath(id), headers: ifMatch(version), body })),
  remove: async (id: number) => {
    ok(await api.DELETE("/api/v2/assets/{asset_id}", { params: assetPath(id) }));
  },
};

export function useAssetsList(params: ListParams) {
  return useQuery({
    queryKey: [...assetsKey, "list", params],
    queryFn: () => assetsApi.list(params),
    placeholderData: keepPreviousData,
  });
}
