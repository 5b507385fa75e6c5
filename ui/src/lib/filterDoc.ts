/**
 * The segment filter document `{"match": "all"|"any", "conditions": [...]}` and the pure edits
 * the segment builder makes to it. An item is addressed by its path: the indexes of the
 * conditions lists from the root group down ([] is the root group, [2] its third item,
 * [1, 0] the first item of the group at index 1).
 */
import type { ProblemFieldError } from "../api/problem";
import { pointerTokens } from "../api/problem";
import { comparisonOf } from "./fieldTypes";

export type Match = "all" | "any";

export interface FilterCondition {
  type: string;
  field?: string | null;
  operator: string;
  value?: unknown;
}

export interface FilterGroup {
  match: Match;
  conditions: FilterItem[];
}

export type FilterItem = FilterCondition | FilterGroup;
export type ItemPath = readonly number[];

export const EMPTY_FILTERS: FilterGroup = { match: "all", conditions: [] };

export function isGroup(item: FilterItem | undefined | null): item is FilterGroup {
  return typeof item === "object" && item !== null && Array.isArray((item as FilterGroup).conditions);
}

/** A document read from the API, made safe to edit (a missing or odd value becomes empty). */
export function normalizeFilters(raw: unknown): FilterGroup {
  if (!isGroup(raw as FilterItem)) return { match: "all", conditions: [] };
  const group = raw as FilterGroup;
  return {
    match: group.match === "any" ? "any" : "all",
    conditions: group.conditions.map((c) => (isGroup(c) ? normalizeFilters(c) : { ...c })),
  };
}

export function pathKey(path: ItemPath): string {
  return path.join("/");
}

export function getItem(root: FilterGroup, path: ItemPath): FilterItem | undefined {
  let current: FilterItem = root;
  for (const index of path) {
    if (!isGroup(current)) return undefined;
    const next: FilterItem | undefined = current.conditions[index];
    if (next === undefined) return undefined;
    current = next;
  }
  return current;
}

/** A copy of the document with the item at `path` replaced by `fn(item)`. */
export function updateItem(root: FilterGroup, path: ItemPath, fn: (item: FilterItem) => FilterItem): FilterGroup {
  if (path.length === 0) {
    const next = fn(root);
    if (!isGroup(next)) throw new Error("The root of a filter document is a group");
    return next;
  }
  const [head, ...rest] = path as [number, ...number[]];
  const child = root.conditions[head];
  if (child === undefined) return root;
  let replaced: FilterItem;
  if (rest.length === 0) replaced = fn(child);
  else if (isGroup(child)) replaced = updateItem(child, rest, fn);
  else return root;
  return { ...root, conditions: root.conditions.map((c, i) => (i === head ? replaced : c)) };
}

/**
 * A copy without the item at `path`. A nested group left empty is removed too (the API refuses
 * an empty nested group); the root group may be empty.
 */
export function removeItem(root: FilterGroup, path: ItemPath): FilterGroup {
  if (path.length === 0) return { ...root, conditions: [] };
  const parentPath = path.slice(0, -1);
  const index = path[path.length - 1] as number;
  const next = updateItem(root, parentPath, (parent) =>
    isGroup(parent) ? { ...parent, conditions: parent.conditions.filter((_, i) => i !== index) } : parent,
  );
  const parent = getItem(next, parentPath);
  if (parentPath.length > 0 && isGroup(parent) && parent.conditions.length === 0) {
    return removeItem(next, parentPath);
  }
  return next;
}

/** A copy with `item` appended to the group at `groupPath`. */
export function appendItem(root: FilterGroup, groupPath: ItemPath, item: FilterItem): FilterGroup {
  return updateItem(root, groupPath, (group) =>
    isGroup(group) ? { ...group, conditions: [...group.conditions, item] } : group,
  );
}

/** A copy with a nested group (holding `first`) appended to the group at `groupPath`. */
export function appendGroup(root: FilterGroup, groupPath: ItemPath, first: FilterCondition): FilterGroup {
  const parent = getItem(root, groupPath);
  const match: Match = isGroup(parent) && parent.match === "all" ? "any" : "all";
  return appendItem(root, groupPath, { match, conditions: [first] });
}

export function setMatch(root: FilterGroup, groupPath: ItemPath, match: Match): FilterGroup {
  return updateItem(root, groupPath, (group) => (isGroup(group) ? { ...group, match } : group));
}

/** How many conditions (not groups) the document holds. */
export function countConditions(group: FilterGroup): number {
  return group.conditions.reduce((n, item) => n + (isGroup(item) ? countConditions(item) : 1), 0);
}

/** How deep groups nest (the root alone is 1). */
export function depthOf(group: FilterGroup): number {
  return 1 + Math.max(0, ...group.conditions.filter(isGroup).map(depthOf));
}

// -- server errors ---------------------------------------------------------------------------

export interface ItemError {
  /** The part of the item the error names: "type", "field", "operator", "value", "match", or null for the item itself. */
  member: string | null;
  detail: string;
}

/**
 * The item a JSON pointer names, and the member of it: "/filters/conditions/2/value" ->
 * path [2], member "value"; "/filters/conditions/1/conditions/0/value/1" -> [1, 0], "value".
 * Null when the pointer is not inside the document at `base`.
 */
export function pointerToPath(pointer: string, base = "/filters"): { path: number[]; member: string | null } | null {
  const tokens = pointerTokens(pointer);
  const baseTokens = pointerTokens(base);
  for (let i = 0; i < baseTokens.length; i++) if (tokens[i] !== baseTokens[i]) return null;
  const rest = tokens.slice(baseTokens.length);
  const path: number[] = [];
  let i = 0;
  while (i + 1 < rest.length && rest[i] === "conditions" && /^\d+$/.test(rest[i + 1] as string)) {
    path.push(Number(rest[i + 1]));
    i += 2;
  }
  return { path, member: rest[i] ?? null };
}

/** Problem field errors grouped by the item they point at (keyed by `pathKey`). */
export function errorsByItem(errors: readonly ProblemFieldError[], base = "/filters"): Map<string, ItemError[]> {
  const result = new Map<string, ItemError[]>();
  for (const err of errors) {
    const target = pointerToPath(err.pointer, base);
    if (!target) continue;
    const key = pathKey(target.path);
    const list = result.get(key) ?? [];
    list.push({ member: target.member, detail: err.detail });
    result.set(key, list);
  }
  return result;
}

/** Field errors that name no item of the document (shown above the builder). */
export function errorsOutside(errors: readonly ProblemFieldError[], base = "/filters"): ProblemFieldError[] {
  return errors.filter((e) => pointerToPath(e.pointer, base) === null);
}

// -- filter types, operators and values ------------------------------------------------------

export type ValueShape = "none" | "single" | "list" | "pair";

export interface OperatorInfo {
  key: string;
  label: string;
  value: ValueShape;
}

export interface FilterTypeInfo {
  key: string;
  label: string;
  // The known kinds, kept for editor hints; the backend may add others.
  field: "none" | "contact_core" | "contact_custom" | "company" | "channel" | (string & {});
  operators: Record<string, OperatorInfo[]>;
  value?: string;
}

export interface FieldInfo {
  alias: string;
  label: string;
  type: string;
  is_core?: boolean;
  options?: readonly Record<string, string>[];
}

export const DNC_CHANNELS = ["email", "sms", "push", "phone"] as const;
export const DNC_REASONS = ["unsubscribed", "bounced", "complaint", "manual"] as const;

const COMPANY_CORE_FIELDS: FieldInfo[] = [
  { alias: "name", label: "Name", type: "text", is_core: true },
  { alias: "domain", label: "Domain", type: "text", is_core: true },
];

/** The fields a condition of this type can choose from; empty when the type takes no field. */
export function fieldsForType(
  type: FilterTypeInfo | undefined,
  contactFields: readonly FieldInfo[],
  companyFields: readonly FieldInfo[],
): FieldInfo[] {
  switch (type?.field) {
    case "contact_core":
      return contactFields.filter((f) => f.is_core);
    case "contact_custom":
      return contactFields.filter((f) => !f.is_core);
    case "company":
      return [...COMPANY_CORE_FIELDS, ...companyFields.filter((f) => !f.is_core)];
    case "channel":
      return DNC_CHANNELS.map((c) => ({
        alias: c,
        label: c === "sms" ? "SMS" : c[0]!.toUpperCase() + c.slice(1),
        type: "text",
      }));
    default:
      return [];
  }
}

/** The operators that fit a condition: the type's '*' list, or its list for the field's kind. */
export function operatorsFor(type: FilterTypeInfo | undefined, field: FieldInfo | undefined): OperatorInfo[] {
  if (!type) return [];
  const any = type.operators["*"];
  if (any) return any;
  if (!field) return [];
  return type.operators[comparisonOf(field.type)] ?? [];
}

/** What kind of value input a condition needs. */
export type ValueKind =
  "text" | "number" | "boolean" | "date" | "datetime" | "option" | "tag" | "stage" | "owner" | "segment" | "dnc_reason";

export interface ValueEditor {
  shape: ValueShape;
  kind: ValueKind;
}

export function valueEditorFor(
  type: FilterTypeInfo | undefined,
  field: FieldInfo | undefined,
  operator: OperatorInfo | undefined,
): ValueEditor {
  const key = type?.key;
  // Do Not Contact takes an optional list of reasons whatever its operator says.
  if (key === "dnc") return { shape: "list", kind: "dnc_reason" };
  const shape: ValueShape = operator?.value ?? "single";
  if (key === "tags") return { shape, kind: "tag" };
  if (key === "stage") return { shape, kind: "stage" };
  if (key === "owner") return { shape, kind: "owner" };
  if (key === "segment") return { shape, kind: "segment" };
  if (key === "points") return { shape, kind: "number" };
  if (key === "created" || key === "last_active") return { shape, kind: "datetime" };
  if (!field) return { shape, kind: "text" };
  const kind = comparisonOf(field.type);
  if (kind === "number") return { shape, kind: "number" };
  if (kind === "boolean") return { shape, kind: "boolean" };
  if (kind === "date" || kind === "datetime") return { shape, kind };
  // Text operators that match patterns take free text even on a select field.
  const free = ["contains", "not_contains", "starts_with", "ends_with", "like", "regexp"].includes(operator?.key ?? "");
  if ((field.type === "select" || field.type === "multiselect") && (field.options?.length ?? 0) > 0 && !free) {
    return { shape, kind: "option" };
  }
  return { shape, kind: "text" };
}

/** An empty value of a shape. */
export function emptyValue(editor: ValueEditor): unknown {
  switch (editor.shape) {
    case "none":
      return editor.kind === "dnc_reason" ? [] : undefined;
    case "list":
      return [];
    case "pair":
      return ["", ""];
    default:
      return editor.kind === "boolean" ? true : "";
  }
}

/** Carry a value over to another shape when the operator changes (3 -> [3] -> [3, ""]). */
export function adaptValue(value: unknown, to: ValueEditor): unknown {
  const items = Array.isArray(value) ? value : value === undefined || value === null || value === "" ? [] : [value];
  switch (to.shape) {
    case "none":
      return emptyValue(to);
    case "list":
      return items.filter((v) => v !== "" && v !== null && v !== undefined);
    case "pair":
      return [items[0] ?? "", items[1] ?? ""];
    default:
      return items[0] ?? emptyValue(to);
  }
}

/** A new condition of a type, with its first field and operator chosen. */
export function newCondition(
  type: FilterTypeInfo,
  contactFields: readonly FieldInfo[],
  companyFields: readonly FieldInfo[],
): FilterCondition {
  const fields = fieldsForType(type, contactFields, companyFields);
  const field = fields[0];
  const operator = operatorsFor(type, field)[0];
  const editor = valueEditorFor(type, field, operator);
  const condition: FilterCondition = { type: type.key, operator: operator?.key ?? "" };
  if (type.field !== "none") condition.field = field?.alias ?? null;
  const value = emptyValue(editor);
  if (value !== undefined) condition.value = value;
  return condition;
}

/**
 * A condition after the user picked another type, field or operator: the operator is kept when
 * it still fits, otherwise the first that does; the value is carried over to the new shape.
 */
export function reviseCondition(
  condition: FilterCondition,
  change: Partial<Pick<FilterCondition, "type" | "field" | "operator">>,
  types: readonly FilterTypeInfo[],
  contactFields: readonly FieldInfo[],
  companyFields: readonly FieldInfo[],
): FilterCondition {
  if (change.type !== undefined && change.type !== condition.type) {
    const type = types.find((t) => t.key === change.type);
    return type ? newCondition(type, contactFields, companyFields) : { ...condition, type: change.type };
  }
  const type = types.find((t) => t.key === condition.type);
  const fields = fieldsForType(type, contactFields, companyFields);
  const fieldAlias = change.field !== undefined ? change.field : condition.field;
  const field = fields.find((f) => f.alias === fieldAlias);
  const oldField = fields.find((f) => f.alias === condition.field);
  const operators = operatorsFor(type, field);
  const wanted = change.operator ?? condition.operator;
  const operator = operators.find((o) => o.key === wanted) ?? operators[0];
  const oldEditor = valueEditorFor(
    type,
    oldField,
    operatorsFor(type, oldField).find((o) => o.key === condition.operator),
  );
  const editor = valueEditorFor(type, field, operator);
  const sameKind = oldEditor.kind === editor.kind;
  const value = sameKind ? adaptValue(condition.value, editor) : emptyValue(editor);
  const next: FilterCondition = { type: condition.type, operator: operator?.key ?? wanted };
  if (fieldAlias !== undefined) next.field = fieldAlias;
  if (value !== undefined) next.value = value;
  return next;
}
