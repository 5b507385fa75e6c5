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

export interface ListMeta {
  total: number;
  page: number;
  size: number;
}
