/**
 * Names for the API's shapes, read from the generated schema by path and method, so they follow
 * the backend's OpenAPI document whatever its component names are.
 */
import type { paths } from "./schema.gen";

type JsonBody<R> = R extends { content: { "application/json": infer T } } ? T : never;

/** The JSON body of a path's successful (200 or 201) response. */
export type ResponseOf<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  responses: infer Rs;
}
  ? Rs extends { 200: infer R }
    ? JsonBody<R>
    : Rs extends { 201: infer R }
      ? JsonBody<R>
      : never
  : never;

/** The JSON request body of a path and method. */
export type RequestOf<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  requestBody?: infer B;
}
  ? JsonBody<NonNullable<B>>
  : never;

type Item<L> = L extends { data: (infer T)[] } ? T : never;

export type Me = ResponseOf<"/api/v2/auth/me", "get">;
export type User = ResponseOf<"/api/v2/users/{user_id}", "get">;
export type UserCreate = RequestOf<"/api/v2/users", "post">;
export type UserUpdate = RequestOf<"/api/v2/users/{user_id}", "patch">;
export type Role = ResponseOf<"/api/v2/roles/{role_id}", "get">;
export type RoleUpdate = RequestOf<"/api/v2/roles/{role_id}", "patch">;
export type PermissionCatalog = ResponseOf<"/api/v2/permissions", "get">;
export type Token = Item<ResponseOf<"/api/v2/tokens", "get">>;
export type TokenCreated = ResponseOf<"/api/v2/tokens", "post">;
export type Project = ResponseOf<"/api/v2/projects/{project_id}", "get">;
export type ProjectEntities = ResponseOf<"/api/v2/projects/{project_id}/entities", "get">;
export type AuditEntry = Item<ResponseOf<"/api/v2/audit-log", "get">>;
export type InstanceSettings = ResponseOf<"/api/v2/settings", "get">;
export type SystemInfo = ResponseOf<"/api/v2/system", "get">;
export type Contact = ResponseOf<"/api/v2/contacts/{contact_id}", "get">;
export type ContactCreate = RequestOf<"/api/v2/contacts", "post">;
export type ContactUpdate = RequestOf<"/api/v2/contacts/{contact_id}", "patch">;
export type FieldDef = ResponseOf<"/api/v2/fields/{field_id}", "get">;
export type FieldCreate = RequestOf<"/api/v2/fields", "post">;
export type Company = ResponseOf<"/api/v2/companies/{company_id}", "get">;
export type Stage = ResponseOf<"/api/v2/stages/{stage_id}", "get">;
export type Tag = Item<ResponseOf<"/api/v2/tags", "get">>;
export type ActivityPage = ResponseOf<"/api/v2/contacts/{contact_id}/activity", "get">;
export type ActivityItem = ActivityPage["data"][number];

export interface ListMeta {
  total: number;
  page: number;
  size: number;
}

export type Segment = ResponseOf<"/api/v2/segments/{segment_id}", "get">;
export type SegmentCreate = RequestOf<"/api/v2/segments", "post">;
export type SegmentMember = Item<ResponseOf<"/api/v2/segments/{segment_id}/members", "get">>;
export type ContactSegment = ResponseOf<"/api/v2/contacts/{contact_id}/segments", "get">[number];
export type FilterTypeRead = ResponseOf<"/api/v2/segment-filter-types", "get">[number];
export type ImportJob = ResponseOf<"/api/v2/imports/{import_id}", "get">;
export type ImportPreview = ResponseOf<"/api/v2/imports/preview", "post">;
