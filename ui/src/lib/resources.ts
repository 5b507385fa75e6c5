/**
 * Resource keys of the permission map, as `GET /api/v2/permissions` names them. One place, so a
 * rename in the backend is one edit here.
 */
export const RESOURCES = {
  users: "users",
  roles: "roles",
  projects: "projects",
  audit: "audit_log",
  settings: "settings",
  contacts: "contacts",
  fields: "fields",
  companies: "companies",
  stages: "stages",
  segments: "segments",
  imports: "imports",
  campaigns: "campaigns",
  emails: "emails",
  forms: "forms",
  pages: "pages",
  assets: "assets",
} as const;
