/** Permission checks against the `me` document's permission map. */

export type PermissionKey =
  | "view_own"
  | "view_others"
  | "create"
  | "edit_own"
  | "edit_others"
  | "delete_own"
  | "delete_others"
  | "publish"
  | "associate";

export interface PermissionSubject {
  is_admin: boolean;
  permissions: Record<string, readonly string[] | undefined>;
}

/** Whether the user holds `permission` on `resource`. Administrators hold every permission. */
export function can(me: PermissionSubject | null | undefined, resource: string, permission: PermissionKey): boolean {
  if (!me) return false;
  if (me.is_admin) return true;
  return me.permissions[resource]?.includes(permission) ?? false;
}

/** Whether the user holds at least one of `permissions` on `resource`. */
export function canAny(
  me: PermissionSubject | null | undefined,
  resource: string,
  permissions: readonly PermissionKey[],
): boolean {
  return permissions.some((p) => can(me, resource, p));
}

/** Whether the user may see anything of `resource` (own or others' items). */
export function canView(me: PermissionSubject | null | undefined, resource: string): boolean {
  return canAny(me, resource, ["view_own", "view_others"]);
}

/** Whether the user may edit an item, given whether they own it. */
export function canEditItem(me: PermissionSubject | null | undefined, resource: string, ownsItem: boolean): boolean {
  return can(me, resource, ownsItem ? "edit_own" : "edit_others") || can(me, resource, "edit_others");
}

/** Whether the user may delete an item, given whether they own it. */
export function canDeleteItem(me: PermissionSubject | null | undefined, resource: string, ownsItem: boolean): boolean {
  return can(me, resource, ownsItem ? "delete_own" : "delete_others") || can(me, resource, "delete_others");
}

/** Toggle one permission in a role's matrix, keeping the map free of empty lists. */
export function togglePermission(
  matrix: Record<string, readonly string[] | undefined>,
  resource: string,
  permission: string,
  granted: boolean,
): Record<string, string[]> {
  const next: Record<string, string[]> = {};
  for (const [key, perms] of Object.entries(matrix)) {
    if (perms && perms.length > 0) next[key] = [...perms];
  }
  const current = new Set(next[resource] ?? []);
  if (granted) current.add(permission);
  else current.delete(permission);
  if (current.size === 0) delete next[resource];
  else next[resource] = [...current].sort();
  return next;
}
