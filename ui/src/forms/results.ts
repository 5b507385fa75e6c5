/** Submission values as text for the results tables (never markup: React escapes what it shows). */
import type { FormField } from "./types";
import { valueAsText } from "../lib/text";

/** A submitted value as one line of text: lists joined, booleans as Yes / No, objects as JSON. */
export function valueText(value: unknown): string {
  if (value === null || value === undefined || value === "") return "";
  if (Array.isArray(value)) return value.map(valueText).filter(Boolean).join(", ");
  if (typeof value === "boolean") return value ? "Yes" : "No";
  return valueAsText(value);
}

/** A value shown with its option's label when the field has options ("a" -> "Option A"). */
export function displayValue(field: Pick<FormField, "type" | "options"> | undefined, value: unknown): string {
  if (!field) return valueText(value);
  if (field.type === "consent") {
    if (value === null || value === undefined || value === "" || value === false) return "No";
    return "Yes";
  }
  if (!field.options.length) return valueText(value);
  const label = (v: unknown) => field.options.find((o) => o.value === String(v))?.label ?? valueText(v);
  return Array.isArray(value) ? value.map(label).join(", ") : value === null || value === undefined ? "" : label(value);
}

export interface ValueColumn {
  name: string;
  header: string;
  field: FormField | undefined;
}

/**
 * The value columns of a results table: the form's fields in order, then any names found in the
 * submissions that the form no longer has (a field removed since), so no value is hidden.
 */
export function valueColumns(
  fields: readonly FormField[],
  submissions: readonly { values: Record<string, unknown> }[],
): ValueColumn[] {
  const cols: ValueColumn[] = fields.map((f) => ({ name: f.name, header: f.label.trim() || f.name, field: f }));
  const known = new Set(cols.map((c) => c.name));
  for (const s of submissions) {
    for (const name of Object.keys(s.values ?? {})) {
      if (!known.has(name)) {
        known.add(name);
        cols.push({ name, header: `${name} (removed)`, field: undefined });
      }
    }
  }
  return cols;
}
