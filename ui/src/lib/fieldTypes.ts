/**
 * Field types: which input edits a value of each type, how a value is shown, and how the
 * segment builder's operators fit it. Mirrors the backend's `fields/types.py`.
 */

import { valueAsText } from "./text";

export const FIELD_TYPES = [
  "text",
  "long_text",
  "number",
  "boolean",
  "date",
  "datetime",
  "email",
  "url",
  "phone",
  "select",
  "multiselect",
  "country",
  "timezone",
  "locale",
] as const;

export type FieldType = (typeof FIELD_TYPES)[number];

export const FIELD_TYPE_LABELS: Record<FieldType, string> = {
  text: "Text",
  long_text: "Long text",
  number: "Number",
  boolean: "Yes / no",
  date: "Date",
  datetime: "Date and time",
  email: "Email",
  url: "Web address",
  phone: "Phone",
  select: "Select (one choice)",
  multiselect: "Multi-select (several choices)",
  country: "Country",
  timezone: "Timezone",
  locale: "Locale",
};

/** How a type compares, as the segment filter types name it (their `operators` keys). */
export type Comparison = "text" | "number" | "date" | "datetime" | "boolean" | "list";

export function comparisonOf(type: string): Comparison {
  switch (type) {
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    case "date":
      return "date";
    case "datetime":
      return "datetime";
    case "multiselect":
      return "list";
    default:
      return "text";
  }
}

/** The input that edits one value of a type. */
export type InputKind =
  | "text"
  | "textarea"
  | "number"
  | "boolean"
  | "date"
  | "datetime"
  | "email"
  | "url"
  | "tel"
  | "select"
  | "multiselect"
  | "country"
  | "timezone";

export function inputKindOf(type: string): InputKind {
  switch (type) {
    case "long_text":
      return "textarea";
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    case "date":
      return "date";
    case "datetime":
      return "datetime";
    case "email":
      return "email";
    case "url":
      return "url";
    case "phone":
      return "tel";
    case "select":
      return "select";
    case "multiselect":
      return "multiselect";
    case "country":
      return "country";
    case "timezone":
      return "timezone";
    default:
      return "text"; // text, locale and anything new
  }
}

export interface FieldOption {
  value: string;
  label?: string;
}

/** Options of a field, whatever shape the API gave them. */
export function fieldOptions(options: readonly Record<string, string>[] | undefined): FieldOption[] {
  return (options ?? [])
    .filter((o) => typeof o.value === "string")
    .map((o) => ({ value: o.value as string, label: o.label || (o.value as string) }));
}

/** An `<input type="datetime-local">` value (local time, minutes) for an ISO or UTC text. */
export function toDateTimeLocal(value: unknown): string {
  if (typeof value !== "string" || !value) return "";
  // The API stores datetimes as UTC without a zone ("2024-05-01T10:00:00").
  const iso = /[zZ]|[+-]\d\d:\d\d$/.test(value) ? value : `${value}Z`;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** An ISO 8601 UTC text for a datetime-local input's value, or null when empty. */
export function fromDateTimeLocal(value: string): string | null {
  if (!value) return null;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return null;
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** A field value in a sentence: lists joined, booleans as Yes/No, nothing as an em dash. */
export function formatFieldValue(type: string, value: unknown, options?: FieldOption[]): string {
  if (value === null || value === undefined || value === "") return "—";
  const label = (v: string) => options?.find((o) => o.value === v)?.label ?? v;
  if (Array.isArray(value)) return value.length ? value.map((v) => label(valueAsText(v))).join(", ") : "—";
  switch (type) {
    case "boolean":
      return value === true ? "Yes" : value === false ? "No" : valueAsText(value);
    case "datetime": {
      const local = toDateTimeLocal(value);
      if (!local) return valueAsText(value);
      return new Date(local).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
    }
    case "select":
      return label(valueAsText(value));
    default:
      return valueAsText(value);
  }
}

/** A label → alias suggestion, as the backend derives it ("First name" -> "first_name"). */
export function aliasFromLabel(label: string): string {
  const ascii = label
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
  if (!label.trim()) return "";
  const slug = /^[a-z]/.test(ascii) ? ascii : `field_${ascii}`.replace(/_+$/, "");
  return slug.slice(0, 64);
}

/** Whether an input value counts as empty (so it is left out of a create request). */
export function isEmptyValue(value: unknown): boolean {
  return value === undefined || value === null || value === "" || (Array.isArray(value) && value.length === 0);
}
