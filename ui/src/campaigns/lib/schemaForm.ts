/**
 * Value handling of the step settings form, driven by the JSON Schema pydantic produces for an
 * event type's config: $defs/$ref, anyOf with null (optional values), enums, consts, arrays,
 * nested objects and free maps.
 */
export type JsonSchema = {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
};

export type Path = (string | number)[];

/** Follow a local "#/$defs/Name" reference (and single-item allOf wrappers). */
export function resolve(schema: JsonSchema | undefined, root: JsonSchema): JsonSchema {
  let current = schema ?? {};
  for (let depth = 0; depth < 20; depth += 1) {
    if (current.$ref) {
      const match = /^#\/(\$defs|definitions)\/(.+)$/.exec(current.$ref);
      const defs =
        (match?.[1] === "definitions"
          ? (root as { definitions?: Record<string, JsonSchema> }).definitions
          : root.$defs) ?? {};
      const target = match ? defs[decodeURIComponent(match[2]!)] : undefined;
      const { $ref: _ref, ...rest } = current;
      void _ref;
      current = { ...(target ?? {}), ...rest };
      continue;
    }
    if (current.allOf && current.allOf.length === 1) {
      const { allOf, ...rest } = current;
      current = { ...allOf[0], ...rest };
      continue;
    }
    break;
  }
  return current;
}

function isNullSchema(s: JsonSchema): boolean {
  return s.type === "null";
}

/** anyOf [X, null] -> X, nullable. Other unions stay as they are. */
export function unwrapNullable(
  schema: JsonSchema | undefined,
  root: JsonSchema,
): { schema: JsonSchema; nullable: boolean } {
  const resolved = resolve(schema, root);
  const union = resolved.anyOf ?? resolved.oneOf;
  if (union) {
    const others = union.filter((s) => !isNullSchema(s));
    const nullable = others.length < union.length;
    if (others.length === 1) {
      const { anyOf: _a, oneOf: _o, ...rest } = resolved;
      void _a;
      void _o;
      return { schema: { ...resolve(others[0], root), ...rest }, nullable };
    }
    return { schema: { ...resolved, anyOf: others, oneOf: undefined }, nullable };
  }
  if (Array.isArray(resolved.type) && resolved.type.includes("null")) {
    const types = resolved.type.filter((t) => t !== "null");
    return { schema: { ...resolved, type: types.length === 1 ? types[0] : types }, nullable: true };
  }
  return { schema: resolved, nullable: false };
}

export type FieldKind =
  "string" | "integer" | "number" | "boolean" | "enum" | "array" | "object" | "map" | "union" | "any";

/** How a (nullable-unwrapped) schema is edited. */
export function fieldKind(schema: JsonSchema): FieldKind {
  if (schema.enum) return "enum";
  if (schema.anyOf || schema.oneOf) return "union";
  switch (schema.type) {
    case "string":
      return "string";
    case "integer":
      return "integer";
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    case "array":
      return "array";
    case "object":
      return schema.properties && Object.keys(schema.properties).length ? "object" : "map";
    default:
      return "any";
  }
}

/** A field's label: its title, else its name made readable ("timeout_s" -> "Timeout s"). */
export function fieldLabel(name: string | number, schema: JsonSchema): string {
  if (schema.title) return schema.title;
  const text = String(name).replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/**
 * The starting value of a schema: its default, else for an object every property that has a
 * default or is required, else an empty value of the type. Required numbers stay unset so the
 * form shows them empty and validation names them, instead of inventing a 0.
 */
export function initialValue(schema: JsonSchema | undefined, root: JsonSchema): unknown {
  const raw = resolve(schema, root);
  if (raw.default !== undefined) return clone(raw.default);
  const { schema: s, nullable } = unwrapNullable(raw, root);
  if (s.default !== undefined) return clone(s.default);
  if (nullable) return null;
  switch (fieldKind(s)) {
    case "object": {
      const out: Record<string, unknown> = {};
      const required = new Set(s.required ?? []);
      for (const [name, prop] of Object.entries(s.properties ?? {})) {
        const resolved = resolve(prop, root);
        if (resolved.default !== undefined || required.has(name)) {
          const value = initialValue(prop, root);
          if (value !== undefined) out[name] = value;
        }
      }
      return out;
    }
    case "map":
      return {};
    case "array":
      return [];
    case "string":
      return "";
    case "boolean":
      return false;
    case "enum":
      return undefined;
    default:
      return undefined;
  }
}

export function getIn(value: unknown, path: Path): unknown {
  let current = value;
  for (const token of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string | number, unknown>)[token];
  }
  return current;
}

/** A copy of `value` with `path` set; undefined removes an object key. */
export function setIn(value: unknown, path: Path, next: unknown): unknown {
  if (path.length === 0) return next;
  const [head, ...rest] = path as [string | number, ...Path];
  if (typeof head === "number") {
    const list = Array.isArray(value) ? [...(value as unknown[])] : [];
    list[head] = setIn(list[head], rest, next);
    return list;
  }
  const obj =
    value && typeof value === "object" && !Array.isArray(value) ? { ...(value as Record<string, unknown>) } : {};
  const child = setIn(obj[head], rest, next);
  if (child === undefined) delete obj[head];
  else obj[head] = child;
  return obj;
}

export function removeAt(list: unknown, index: number): unknown[] {
  return Array.isArray(list) ? list.filter((_, i) => i !== index) : [];
}

/**
 * A number input's text as the value to store: "" -> null when nullable, else undefined
 * (unset); integers are truncated; anything unparsable stays as the text so validation can
 * name it rather than it silently vanishing.
 */
export function parseNumber(text: string, integer: boolean, nullable: boolean): number | string | null | undefined {
  const trimmed = text.trim();
  if (trimmed === "") return nullable ? null : undefined;
  const n = Number(trimmed);
  if (!Number.isFinite(n)) return text;
  return integer ? Math.trunc(n) : n;
}

/** JSON pointer of a path inside a step's config: ["headers", 0, "name"] -> "headers/0/name". */
export function pathKey(path: Path): string {
  return path.map((p) => String(p).replace(/~/g, "~0").replace(/\//g, "~1")).join("/");
}

/** What a config field refers to, for a picker instead of a plain input. */
export type PickerKind =
  | "segment"
  | "user"
  | "stage"
  | "company"
  | "campaign"
  | "tag"
  | "field"
  | "step"
  | "email"
  | "form"
  | "page"
  | "asset"
  | "email_link";

const REFERENCE_KINDS: Record<string, PickerKind> = {
  segment: "segment",
  user: "user",
  stage: "stage",
  company: "company",
  campaign: "campaign",
  email: "email",
  form: "form",
  page: "page",
  asset: "asset",
};

/**
 * The picker of a config property: what the event type declares in `references` (GET
 * /api/v2/event-types), else what the type and property name say (tags, fields, steps, and the
 * links of the email a click decision watches).
 */
export function pickerFor(
  typeKey: string,
  name: string,
  references: Readonly<Record<string, string>> = {},
): PickerKind | null {
  const declared = references[name];
  if (declared && REFERENCE_KINDS[declared]) return REFERENCE_KINDS[declared];
  const byType: Record<string, Record<string, PickerKind>> = {
    "contact.change_segments": { add: "segment", remove: "segment" },
    "contact.change_tags": { add: "tag", remove: "tag" },
    "campaign.change_campaigns": { add: "campaign", remove: "campaign" },
    "campaign.jump_to_event": { target: "step" },
    "contact.anonymise": { fields: "field" },
    "contact.field_value": { field: "field" },
    "email.click": { urls: "email_link" },
  };
  const specific = byType[typeKey]?.[name];
  if (specific) return specific;
  const byName: Record<string, PickerKind> = {
    segments: "segment",
    segment_id: "segment",
    owner_id: "user",
    owners: "user",
    user_id: "user",
    users: "user",
    stage_id: "stage",
    stages: "stage",
    company_id: "company",
    companies: "company",
    campaigns: "campaign",
    campaign_id: "campaign",
    tags: "tag",
    field: "field",
  };
  return byName[name] ?? null;
}

/**
 * Tidy a config before sending: strings trimmed like the server does, and empty optional
 * strings of nullable fields sent as null. Unknown structure passes through untouched.
 */
export function cleanValue(value: unknown, schema: JsonSchema | undefined, root: JsonSchema): unknown {
  const { schema: s, nullable } = unwrapNullable(schema, root);
  if (value === undefined) return undefined;
  if (typeof value === "string") {
    const trimmed = value.trim();
    return nullable && trimmed === "" ? null : value;
  }
  const kind = fieldKind(s);
  if (kind === "object" && value && typeof value === "object" && !Array.isArray(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const cleaned = cleanValue(v, s.properties?.[k], root);
      if (cleaned !== undefined) out[k] = cleaned;
    }
    return out;
  }
  if (kind === "array" && Array.isArray(value)) return value.map((v) => cleanValue(v, s.items, root));
  return value;
}
