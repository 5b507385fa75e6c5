/**
 * CSV header → contact field mapping of the import wizard. The server proposes a mapping in its
 * preview; `defaultMapping` is the same rule on this side (a header matches a field by alias or
 * label, ignoring case, spaces and punctuation), used for headers the server left out.
 */

export interface MappableField {
  alias: string;
  label: string;
}

/** Value of a header that is not imported. */
export const SKIP = "";

/** Special import targets beside fields (the column holds tags). */
export const TAGS_TARGET = "tags";

export function normalizeHeader(text: string): string {
  return text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "");
}

/**
 * A field alias per header, or SKIP. Each field is taken by one header at most: the first that
 * matches it; an alias match beats a label match.
 */
export function defaultMapping(headers: readonly string[], fields: readonly MappableField[]): Record<string, string> {
  const byAlias = new Map<string, string>();
  const byLabel = new Map<string, string>();
  for (const f of fields) {
    const a = normalizeHeader(f.alias);
    const l = normalizeHeader(f.label);
    if (a && !byAlias.has(a)) byAlias.set(a, f.alias);
    if (l && !byLabel.has(l)) byLabel.set(l, f.alias);
  }
  const taken = new Set<string>();
  const mapping: Record<string, string> = {};
  for (const header of headers) {
    const key = normalizeHeader(header);
    const candidate = byAlias.get(key) ?? byLabel.get(key) ?? (key === TAGS_TARGET ? TAGS_TARGET : undefined);
    if (candidate && !taken.has(candidate)) {
      mapping[header] = candidate;
      taken.add(candidate);
    } else {
      mapping[header] = SKIP;
    }
  }
  return mapping;
}

/** Merge the server's proposal over our own, keeping only targets that exist. */
export function mergeMapping(
  headers: readonly string[],
  fields: readonly MappableField[],
  server: Record<string, string | null | undefined> | undefined,
): Record<string, string> {
  const known = new Set([...fields.map((f) => f.alias), TAGS_TARGET]);
  const local = defaultMapping(headers, fields);
  if (!server) return local;
  const result: Record<string, string> = {};
  for (const header of headers) {
    const proposed = server[header];
    if (proposed === null) result[header] = SKIP;
    else if (proposed !== undefined && known.has(proposed)) result[header] = proposed;
    else result[header] = local[header] ?? SKIP;
  }
  return result;
}

/** Targets chosen for more than one header (the wizard refuses to start with any). */
export function duplicateTargets(mapping: Record<string, string>): string[] {
  const seen = new Map<string, number>();
  for (const target of Object.values(mapping)) {
    if (target === SKIP || target === TAGS_TARGET) continue;
    seen.set(target, (seen.get(target) ?? 0) + 1);
  }
  return [...seen].filter(([, n]) => n > 1).map(([t]) => t);
}

/** Whether the mapping can find or create a contact: some header maps to an identifying field. */
export function hasIdentifier(mapping: Record<string, string>, identifiers: readonly string[]): boolean {
  return Object.values(mapping).some((t) => identifiers.includes(t));
}
