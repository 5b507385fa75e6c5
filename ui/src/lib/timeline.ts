/** Turning a contact's activity items into lines the timeline shows. */

import { valueAsText } from "./text";

export interface ActivityLike {
  kind: string;
  summary: string;
  details?: Record<string, unknown>;
}

export interface TimelineChange {
  field: string;
  old: string;
  new: string;
}

export interface TimelineEntry {
  title: string;
  /** A Carbon tag colour for the kind. */
  tone: "blue" | "green" | "red" | "purple" | "gray" | "teal" | "magenta" | "cyan";
  kindLabel: string;
  changes: TimelineChange[];
  lines: string[];
  link?: { to: string; text: string };
}

function text(value: unknown): string {
  if (value === null || value === undefined || value === "") return "(empty)";
  if (Array.isArray(value)) return value.length ? value.map(text).join(", ") : "(empty)";
  return valueAsText(value);
}

function list(value: unknown): string[] {
  return Array.isArray(value) ? value.map((v) => String(v)) : [];
}

/** "fields.favourite_color" -> its label when known, else the alias. */
export function fieldLabel(path: string, labels: Record<string, string>): string {
  const alias = path.startsWith("fields.") ? path.slice(7) : path;
  return labels[alias] ?? labels[path] ?? alias;
}

export function describeActivity(item: ActivityLike, labels: Record<string, string> = {}): TimelineEntry {
  const d = item.details ?? {};
  const base: TimelineEntry = { title: item.summary, tone: "gray", kindLabel: item.kind, changes: [], lines: [] };
  switch (item.kind) {
    case "created":
      return { ...base, tone: "green", kindLabel: "Created" };
    case "updated": {
      const raw = (d.changes ?? {}) as Record<string, { old?: unknown; new?: unknown } | undefined>;
      const changes = Object.entries(raw).map(([field, change]) => ({
        field: fieldLabel(field, labels),
        old: text(change?.old),
        new: text(change?.new),
      }));
      return {
        ...base,
        tone: "blue",
        kindLabel: "Updated",
        title: `Updated ${changes.length} field${changes.length === 1 ? "" : "s"}`,
        changes,
      };
    }
    case "tags": {
      const lines: string[] = [];
      if (list(d.added).length) lines.push(`Added: ${list(d.added).join(", ")}`);
      if (list(d.removed).length) lines.push(`Removed: ${list(d.removed).join(", ")}`);
      return { ...base, tone: "teal", kindLabel: "Tags", title: "Tags changed", lines };
    }
    case "points": {
      const delta = Number(d.delta ?? 0);
      const title = `${delta >= 0 ? "+" : ""}${delta} points`;
      return {
        ...base,
        tone: delta >= 0 ? "green" : "red",
        kindLabel: "Points",
        title,
        lines: d.reason ? [valueAsText(d.reason)] : [],
      };
    }
    case "dnc_added":
      return {
        ...base,
        tone: "red",
        kindLabel: "Do not contact",
        title: `Do not contact on ${text(d.channel)} (${text(d.reason)})`,
        lines: d.comment ? [valueAsText(d.comment)] : [],
      };
    case "dnc_removed":
      return { ...base, tone: "green", kindLabel: "Contactable", title: `Contactable again on ${text(d.channel)}` };
    case "merged": {
      const lines: string[] = [];
      if (d.merged_email) lines.push(`Merged contact: ${text(d.merged_email)}`);
      if (list(d.filled).length)
        lines.push(
          `Filled in: ${list(d.filled)
            .map((f) => fieldLabel(f, labels))
            .join(", ")}`,
        );
      if (d.points_added) lines.push(`Points added: ${text(d.points_added)}`);
      return {
        ...base,
        tone: "purple",
        kindLabel: "Merged",
        title: `Merged with contact #${text(d.merged_id)}`,
        lines,
      };
    }
    case "segment.joined":
    case "segment.left": {
      const id = d.segment_id;
      const entry: TimelineEntry = {
        ...base,
        tone: item.kind === "segment.joined" ? "cyan" : "magenta",
        kindLabel: item.kind === "segment.joined" ? "Joined segment" : "Left segment",
      };
      if (typeof id === "number") entry.link = { to: `/segments/${id}`, text: "Open segment" };
      return entry;
    }
    default: {
      const label = item.kind.replace(/[._]/g, " ");
      return { ...base, kindLabel: label.charAt(0).toUpperCase() + label.slice(1) };
    }
  }
}
