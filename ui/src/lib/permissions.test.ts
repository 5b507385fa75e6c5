import { describe, expect, it } from "vitest";
import { can, canDeleteItem, canEditItem, canView, togglePermission } from "./permissions";

const editor = { is_admin: false, permissions: { projects: ["view_others", "edit_own"], users: [] } };
const admin = { is_admin: true, permissions: {} };

describe("can", () => {
  it("grants what the map lists and nothing else", () => {
    expect(can(editor, "projects", "view_others")).toBe(true);
    expect(can(editor, "projects", "delete_others")).toBe(false);
    expect(can(editor, "users", "view_own")).toBe(false);
    expect(can(editor, "roles", "view_own")).toBe(false);
  });
  it("grants administrators everything", () => {
    expect(can(admin, "roles", "delete_others")).toBe(true);
  });
  it("denies the signed-out", () => {
    expect(can(null, "projects", "view_own")).toBe(false);
  });
  it("distinguishes own and others' items", () => {
    expect(canView(editor, "projects")).toBe(true);
    expect(canEditItem(editor, "projects", true)).toBe(true);
    expect(canEditItem(editor, "projects", false)).toBe(false);
    expect(canDeleteItem(editor, "projects", true)).toBe(false);
  });
});

describe("togglePermission", () => {
  it("adds, removes and drops empty resources without mutating the input", () => {
    const input = { projects: ["view_own"] };
    const added = togglePermission(input, "projects", "create", true);
    expect(added).toEqual({ projects: ["create", "view_own"] });
    expect(input).toEqual({ projects: ["view_own"] });
    expect(togglePermission(added, "projects", "create", false)).toEqual({ projects: ["view_own"] });
    expect(togglePermission({ projects: ["view_own"] }, "projects", "view_own", false)).toEqual({});
    expect(togglePermission({}, "users", "view_own", true)).toEqual({ users: ["view_own"] });
  });
});
