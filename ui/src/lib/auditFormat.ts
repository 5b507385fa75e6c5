/** Turning an audit entry's `changes` document into lines a person reads. */

export const EMPTY_VALUE = "(empty)";

/** One value as text: lists joined by ", ", named objects by their name, nothing as "(empty)". */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined || value === "") return EMPTY_VALUE;
  if (Array.isArray(value)) {
    if (value.length === 0) return EMPTY_VALUE;
    return value.map((v) => (v === null || v === undefined ? EMPTY_VALUE : formatScalar(v))).join(", ");
  }
  return formatScalar(value);
}

function formatScalar(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "object" && value !== null) {
    const obj = value as Record<string, unknown>;
    if (typeof obj.name === "string") return obj.name;
    if (typeof obj.label === "string") return obj.label;
    return JSON.stringify(value);
  }
  return String(value);
}

export type ChangeLine =
  | { kind: "changed"; path: string; old: string; new: string }
  | { kind: "added"; path: string; value: string }
  | { kind: "removed"; path: string; value: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isPlainChange(value: unknown): value is { old: unknown; new: unknown } {
  return isRecord(value) && ("old" in value || "new" in value) && !("changed" in value);
}

function isNestedChange(
  value: unknown,
): value is { added?: unknown[]; removed?: unknown[]; changed?: { key: unknown; changes: unknown }[] } {
  return isRecord(value) && ("added" in value || "removed" in value || "changed" in value);
}

function itemLabel(item: unknown): string {
  if (isRecord(item)) {
    for (const k of ["name", "label", "key", "id"]) {
      const v = item[k];
      if (typeof v === "string" || typeof v === "number") return String(v);
    }
  }
  return formatValue(item);
}

/**
 * Flatten a `changes` document: `{field: {old, new}}` gives one "changed" line; a nested document
 * `{field: {added, removed, changed: [{key, changes}]}}` gives "added"/"removed" lines for its
 * items and recurses into changed items with the path `field[key].sub`.
 */
export function flattenChanges(changes: unknown, prefix = ""): ChangeLine[] {
  if (!isRecord(changes)) return [];
  const lines: ChangeLine[] = [];
  for (const [field, change] of Object.entries(changes)) {
    const path = prefix ? `${prefix}.${field}` : field;
    if (isPlainChange(change)) {
      lines.push({ kind: "changed", path, old: formatValue(change.old), new: formatValue(change.new) });
    } else if (isNestedChange(change)) {
      for (const item of change.added ?? []) lines.push({ kind: "added", path, value: itemLabel(item) });
      for (const item of change.removed ?? []) lines.push({ kind: "removed", path, value: itemLabel(item) });
      for (const sub of change.changed ?? []) {
        const key = isRecord(sub) ? itemLabel(sub.key) : "?";
        lines.push(...flattenChanges(isRecord(sub) ? sub.changes : undefined, `${path}[${key}]`));
      }
    } else {
      // An unexpected shape: show it rather than hide it.
      lines.push({ kind: "changed", path, old: EMPTY_VALUE, new: formatValue(change) });
    }
  }
  return lines;
}

/** One line as text, e.g. "projects: A, B -> A, C" or "events: added Send email". */
export function describeChangeLine(line: ChangeLine): string {
  switch (line.kind) {
    case "changed":
      return `${line.path}: ${line.old} -> ${line.new}`;
    case "added":
      return `${line.path}: added ${line.value}`;
    case "removed":
      return `${line.path}: removed ${line.value}`;
  }
}

/** A short summary for a table cell: the changed field names. */
export function summarizeChanges(changes: unknown): string {
  if (!isRecord(changes)) return "";
  const keys = Object.keys(changes);
  if (keys.length === 0) return "";
  return keys.length <= 3 ? keys.join(", ") : `${keys.slice(0, 3).join(", ")} and ${keys.length - 3} more`;
}
