/**
 * The form editor's state: the form as a draft, a reducer for every edit the editor makes, the
 * input name derived from the label until the user edits it, and the body the API takes.
 */
import type {
  ActionType,
  FieldOption,
  FieldType,
  FieldTypeInfo,
  FieldValidation,
  Form,
  FormAction,
  FormField,
  FormWrite,
} from "./types";

export const MAX_FIELDS = 100;
export const MAX_ACTIONS = 50;
export const NAME_MAX = 60;
export const ALIAS_MAX = 60;

/** Attributes an editor shows per field type, when the server's catalogue is not loaded. */
const COMMON = ["label", "name", "required", "help"];
function t(type: FieldType, label: string, attributes: string[]): FieldTypeInfo {
  return {
    type,
    label,
    attributes,
    has_options: attributes.includes("options"),
    maps_to_contact: attributes.includes("contact_field"),
  };
}
export const FIELD_TYPES: readonly FieldTypeInfo[] = [
  t("text", "Text", [
    ...COMMON,
    "contact_field",
    "default",
    "placeholder",
    "validation.min_length",
    "validation.max_length",
    "validation.pattern",
  ]),
  t("email", "Email", [...COMMON, "contact_field", "default", "placeholder"]),
  t("textarea", "Long text", [
    ...COMMON,
    "contact_field",
    "default",
    "placeholder",
    "validation.min_length",
    "validation.max_length",
    "validation.pattern",
  ]),
  t("number", "Number", [...COMMON, "contact_field", "default", "placeholder", "validation.min", "validation.max"]),
  t("date", "Date", [...COMMON, "contact_field", "default"]),
  t("select", "Drop-down list", [...COMMON, "contact_field", "default", "placeholder", "options"]),
  t("radio", "Radio buttons", [...COMMON, "contact_field", "default", "options"]),
  t("checkbox_group", "Checkbox group", [...COMMON, "contact_field", "default", "options"]),
  t("hidden", "Hidden value", ["label", "name", "contact_field", "default"]),
  t("consent", "Consent checkbox", ["label", "name", "required", "help", "consent_text"]),
];

const TYPE_INDEX = new Map(FIELD_TYPES.map((t) => [t.type, t]));

/** Whether an attribute applies to a field type (by the server's catalogue when given). */
export function applies(
  type: FieldType,
  attribute: string,
  catalogue: readonly FieldTypeInfo[] = FIELD_TYPES,
): boolean {
  const local = TYPE_INDEX.get(type);
  const info = catalogue.find((t) => t.type === type) ?? local;
  if (!info) return false;
  if (attribute === "contact_field" && !info.maps_to_contact) return false;
  if (info.attributes.includes(attribute)) return true;
  const dot = attribute.indexOf(".");
  if (dot < 0) return false;
  // The server names a rule alone ("max_length"), or "validation" as a whole (then which rule
  // fits the type is known here).
  const [group, rule] = [attribute.slice(0, dot), attribute.slice(dot + 1)];
  return info.attributes.includes(rule) || (info.attributes.includes(group) && !!local?.attributes.includes(attribute));
}

export function typeLabel(type: FieldType, catalogue: readonly FieldTypeInfo[] = FIELD_TYPES): string {
  return (catalogue.find((t) => t.type === type) ?? TYPE_INDEX.get(type))?.label ?? type;
}

export const HAS_OPTIONS: ReadonlySet<FieldType> = new Set(["select", "radio", "checkbox_group"]);

/**
 * An input name from a label: lower case ASCII, words joined by "_", starting with a letter, at
 * most 60 characters, and not one of `taken` (a number is added: email_2). Empty labels give
 * "field".
 */
export function deriveName(label: string, taken: Iterable<string> = []): string {
  const ascii = label
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase();
  let base = ascii.replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "");
  base = base.replace(/^[0-9_]+/, "");
  if (!base) base = "field";
  base = base.slice(0, NAME_MAX).replace(/_+$/, "");
  const used = new Set(taken);
  if (!used.has(base)) return base;
  for (let n = 2; ; n++) {
    const suffix = `_${n}`;
    const candidate = `${base.slice(0, NAME_MAX - suffix.length).replace(/_+$/, "")}${suffix}`;
    if (!used.has(candidate)) return candidate;
  }
}

/** A URL slug from a name: lower case ASCII letters, digits and "-", at most 60 characters. */
export function deriveAlias(name: string): string {
  const ascii = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase();
  return ascii
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, ALIAS_MAX)
    .replace(/-+$/, "");
}

export const NAME_PATTERN = /^[a-z][a-z0-9_]{0,59}$/;
export const ALIAS_PATTERN = /^[a-z0-9-]{1,60}$/;

/** A field as the editor holds it: the API's field plus whether the user typed its name. */
export interface FieldDraft extends Omit<FormField, "validation"> {
  validation: FieldValidation;
  nameEdited: boolean;
}

export interface FormDraft {
  name: string;
  alias: string;
  aliasEdited: boolean;
  description: string;
  projects: number[];
  is_published: boolean;
  identify_by: string;
  fields: FieldDraft[];
  actions: FormAction[];
  success: { kind: "message" | "redirect"; message: string; redirect_url: string };
  allowed_origins: string[];
}

export const EMPTY_VALIDATION: FieldValidation = {
  min_length: null,
  max_length: null,
  min: null,
  max: null,
  pattern: null,
};

let keySeq = 0;
/** A client-side key for a new field (the server keeps the keys it is given). */
export function newFieldKey(): string {
  const c = globalThis.crypto as Crypto | undefined;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  keySeq += 1;
  return `f-${Date.now().toString(36)}-${keySeq}`;
}

const DEFAULT_LABEL: Record<FieldType, string> = {
  text: "Text",
  email: "Email",
  textarea: "Message",
  number: "Number",
  date: "Date",
  select: "Choose one",
  radio: "Choose one",
  checkbox_group: "Choose any",
  hidden: "Hidden value",
  consent: "I agree",
};

export const DEFAULT_CONSENT = "I agree to receive emails from you. I can unsubscribe at any time.";

/** A new field of a type, its label and name chosen so they are unique in the form. */
export function newField(type: FieldType, existing: readonly FormField[], key: string = newFieldKey()): FieldDraft {
  const label = DEFAULT_LABEL[type];
  const name = deriveName(
    type === "email" ? "email" : label,
    existing.map((f) => f.name),
  );
  return {
    key,
    label,
    type,
    name,
    contact_field: type === "email" && !existing.some((f) => f.contact_field === "email") ? "email" : null,
    required: type === "email" || type === "consent",
    default: null,
    placeholder: "",
    help: "",
    options: HAS_OPTIONS.has(type) ? [{ label: "Option 1", value: "option_1" }] : [],
    validation: { ...EMPTY_VALIDATION },
    consent_text: type === "consent" ? DEFAULT_CONSENT : null,
    nameEdited: false,
  };
}

export function draftOf(form: Form | null): FormDraft {
  if (!form) {
    return {
      name: "",
      alias: "",
      aliasEdited: false,
      description: "",
      projects: [],
      is_published: false,
      identify_by: "email",
      fields: [newField("email", [])],
      actions: [],
      success: { kind: "message", message: "Thank you!", redirect_url: "" },
      allowed_origins: [],
    };
  }
  return {
    name: form.name,
    alias: form.alias,
    aliasEdited: true,
    description: form.description ?? "",
    projects: [...form.projects],
    is_published: form.is_published,
    identify_by: form.identify_by,
    // A saved field's name was chosen already: changing the label must not rename its input.
    fields: form.fields.map((f) => ({
      ...f,
      options: f.options ?? [],
      validation: { ...EMPTY_VALIDATION, ...(f.validation ?? {}) },
      nameEdited: true,
    })),
    actions: form.actions.map((a) => ({ type: a.type, config: { ...a.config } })),
    success: {
      kind: form.success.kind,
      message: form.success.message ?? "",
      redirect_url: form.success.redirect_url ?? "",
    },
    allowed_origins: [...form.allowed_origins],
  };
}

export type FieldPatch = Partial<Omit<FieldDraft, "key" | "nameEdited">>;

export type DraftAction =
  | { type: "set"; patch: Partial<Omit<FormDraft, "fields" | "actions">> }
  | { type: "setName"; name: string }
  | { type: "setAlias"; alias: string }
  | { type: "addField"; fieldType: FieldType; key?: string; at?: number }
  | { type: "removeField"; index: number }
  | { type: "moveField"; from: number; to: number }
  | { type: "duplicateField"; index: number; key?: string }
  | { type: "setLabel"; index: number; label: string }
  | { type: "setFieldName"; index: number; name: string }
  | { type: "setFieldType"; index: number; fieldType: FieldType }
  | { type: "updateField"; index: number; patch: FieldPatch }
  | { type: "setValidation"; index: number; rule: keyof FieldValidation; value: number | string | null }
  | { type: "addOption"; index: number }
  | { type: "updateOption"; index: number; option: number; patch: Partial<FieldOption> }
  | { type: "removeOption"; index: number; option: number }
  | { type: "moveOption"; index: number; from: number; to: number }
  | { type: "addAction"; actionType: ActionType }
  | { type: "removeAction"; index: number }
  | { type: "moveAction"; from: number; to: number }
  | { type: "setActionType"; index: number; actionType: ActionType }
  | { type: "setActionConfig"; index: number; config: Record<string, unknown> }
  | { type: "replace"; draft: FormDraft };

function move<T>(list: readonly T[], from: number, to: number): T[] {
  if (from < 0 || from >= list.length || to < 0 || to >= list.length || from === to) return [...list];
  const next = [...list];
  const [item] = next.splice(from, 1);
  next.splice(to, 0, item as T);
  return next;
}

function withField(draft: FormDraft, index: number, change: (f: FieldDraft) => FieldDraft): FormDraft {
  const field = draft.fields[index];
  if (!field) return draft;
  const fields = [...draft.fields];
  fields[index] = change(field);
  return { ...draft, fields };
}

function otherNames(draft: FormDraft, index: number): string[] {
  return draft.fields.filter((_, i) => i !== index).map((f) => f.name);
}

/** A value for a new option that is unique among the field's options. */
function optionValue(options: readonly FieldOption[], label: string): string {
  return deriveName(
    label,
    options.map((o) => o.value),
  );
}

/** The default config of a new submit action. */
export function defaultConfig(type: ActionType): Record<string, unknown> {
  switch (type) {
    case "segments.add":
    case "segments.remove":
      return { segments: [] };
    case "tags.change":
      return { add: [], remove: [] };
    case "points.change":
      return { delta: 1 };
    case "email.send_to_contact":
      return { email_id: null, kind: "transactional" };
    case "email.send_to_users":
      return { email_id: null, user_ids: [], addresses: [], to_owner: false };
    case "campaigns.add":
      return { campaigns: [] };
    case "webhook.send":
      return { url: "", method: "POST" };
  }
}

export function formReducer(draft: FormDraft, action: DraftAction): FormDraft {
  switch (action.type) {
    case "replace":
      return action.draft;
    case "set":
      return { ...draft, ...action.patch };
    case "setName":
      return {
        ...draft,
        name: action.name,
        alias: draft.aliasEdited ? draft.alias : deriveAlias(action.name),
      };
    case "setAlias":
      return { ...draft, alias: action.alias, aliasEdited: true };
    case "addField": {
      if (draft.fields.length >= MAX_FIELDS) return draft;
      const field = newField(action.fieldType, draft.fields, action.key);
      const at = action.at === undefined ? draft.fields.length : Math.max(0, Math.min(action.at, draft.fields.length));
      const fields = [...draft.fields];
      fields.splice(at, 0, field);
      return { ...draft, fields };
    }
    case "removeField":
      return { ...draft, fields: draft.fields.filter((_, i) => i !== action.index) };
    case "moveField":
      return { ...draft, fields: move(draft.fields, action.from, action.to) };
    case "duplicateField": {
      const field = draft.fields[action.index];
      if (!field || draft.fields.length >= MAX_FIELDS) return draft;
      const copy: FieldDraft = {
        ...field,
        key: action.key ?? newFieldKey(),
        name: deriveName(
          field.name,
          draft.fields.map((f) => f.name),
        ),
        options: field.options.map((o) => ({ ...o })),
        validation: { ...field.validation },
        // Two fields cannot fill one contact field.
        contact_field: null,
        nameEdited: true,
      };
      const fields = [...draft.fields];
      fields.splice(action.index + 1, 0, copy);
      return { ...draft, fields };
    }
    case "setLabel":
      return withField(draft, action.index, (f) => ({
        ...f,
        label: action.label,
        name: f.nameEdited ? f.name : deriveName(action.label, otherNames(draft, action.index)),
      }));
    case "setFieldName":
      return withField(draft, action.index, (f) => ({ ...f, name: action.name, nameEdited: true }));
    case "setFieldType":
      return withField(draft, action.index, (f) => {
        const type = action.fieldType;
        return {
          ...f,
          type,
          options: HAS_OPTIONS.has(type)
            ? f.options.length
              ? f.options
              : [{ label: "Option 1", value: "option_1" }]
            : [],
          consent_text: type === "consent" ? (f.consent_text ?? DEFAULT_CONSENT) : null,
          contact_field: type === "consent" ? null : f.contact_field,
          placeholder: applies(type, "placeholder") ? f.placeholder : "",
          validation: {
            min_length: applies(type, "validation.min_length") ? f.validation.min_length : null,
            max_length: applies(type, "validation.max_length") ? f.validation.max_length : null,
            min: applies(type, "validation.min") ? f.validation.min : null,
            max: applies(type, "validation.max") ? f.validation.max : null,
            pattern: applies(type, "validation.pattern") ? f.validation.pattern : null,
          },
          required: type === "hidden" ? false : f.required,
        };
      });
    case "updateField":
      return withField(draft, action.index, (f) => ({ ...f, ...action.patch }));
    case "setValidation":
      return withField(draft, action.index, (f) => ({
        ...f,
        validation: { ...f.validation, [action.rule]: action.value },
      }));
    case "addOption":
      return withField(draft, action.index, (f) => {
        const label = `Option ${f.options.length + 1}`;
        return { ...f, options: [...f.options, { label, value: optionValue(f.options, label) }] };
      });
    case "updateOption":
      return withField(draft, action.index, (f) => ({
        ...f,
        options: f.options.map((o, i) => (i === action.option ? { ...o, ...action.patch } : o)),
      }));
    case "removeOption":
      return withField(draft, action.index, (f) => ({
        ...f,
        options: f.options.filter((_, i) => i !== action.option),
      }));
    case "moveOption":
      return withField(draft, action.index, (f) => ({ ...f, options: move(f.options, action.from, action.to) }));
    case "addAction":
      if (draft.actions.length >= MAX_ACTIONS) return draft;
      return {
        ...draft,
        actions: [...draft.actions, { type: action.actionType, config: defaultConfig(action.actionType) }],
      };
    case "removeAction":
      return { ...draft, actions: draft.actions.filter((_, i) => i !== action.index) };
    case "moveAction":
      return { ...draft, actions: move(draft.actions, action.from, action.to) };
    case "setActionType":
      return {
        ...draft,
        actions: draft.actions.map((a, i) =>
          i === action.index ? { type: action.actionType, config: defaultConfig(action.actionType) } : a,
        ),
      };
    case "setActionConfig":
      return {
        ...draft,
        actions: draft.actions.map((a, i) => (i === action.index ? { ...a, config: action.config } : a)),
      };
  }
}

/** The default value as the API takes it: option values for a checkbox group, else text or null. */
function writeDefault(f: FieldDraft): FormField["default"] {
  if (f.type === "consent") return null;
  const d = f.default;
  if (f.type === "checkbox_group") {
    const list = Array.isArray(d) ? d : typeof d === "string" && d ? [d] : [];
    return list.length ? list : null;
  }
  if (Array.isArray(d)) return d[0] ?? null;
  if (d === null || d === "") return null;
  return d;
}

/** A field as the API takes it: attributes that do not apply to its type are reset. */
export function fieldToWrite(f: FieldDraft): FormField {
  const rule = <K extends keyof FieldValidation>(k: K): FieldValidation[K] =>
    applies(f.type, `validation.${k}`) ? f.validation[k] : null;
  const pattern = rule("pattern");
  return {
    key: f.key,
    label: f.label.trim(),
    type: f.type,
    name: f.name.trim(),
    contact_field: f.type === "consent" ? null : f.contact_field || null,
    required: f.type === "hidden" ? false : f.required,
    default: writeDefault(f),
    placeholder: applies(f.type, "placeholder") ? f.placeholder : "",
    help: f.type === "hidden" ? "" : f.help,
    options: HAS_OPTIONS.has(f.type) ? f.options.map((o) => ({ label: o.label.trim(), value: o.value.trim() })) : [],
    validation: {
      min_length: rule("min_length"),
      max_length: rule("max_length"),
      min: rule("min"),
      max: rule("max"),
      pattern: pattern ? pattern : null,
    },
    consent_text: f.type === "consent" ? (f.consent_text ?? "") : null,
  };
}

export function toWrite(d: FormDraft): FormWrite {
  return {
    name: d.name.trim(),
    alias: d.alias.trim(),
    description: d.description,
    projects: [...d.projects],
    is_published: d.is_published,
    identify_by: d.identify_by,
    fields: d.fields.map(fieldToWrite),
    actions: d.actions.map((a) => ({ type: a.type, config: a.config })),
    success:
      d.success.kind === "redirect"
        ? { kind: "redirect", message: d.success.message, redirect_url: d.success.redirect_url.trim() || null }
        : { kind: "message", message: d.success.message, redirect_url: null },
    allowed_origins: [...d.allowed_origins],
  };
}

/** The PATCH body: only what changed since `saved`, or null when nothing did. */
export function patchOf(d: FormDraft, saved: Form): Partial<FormWrite> | null {
  const now = toWrite(d);
  const before = toWrite(draftOf(saved));
  const patch: Partial<FormWrite> = {};
  for (const key of Object.keys(now) as (keyof FormWrite)[]) {
    if (JSON.stringify(now[key]) !== JSON.stringify(before[key])) {
      (patch as Record<string, unknown>)[key] = now[key];
    }
  }
  return Object.keys(patch).length ? patch : null;
}

export function isDirty(d: FormDraft, saved: Form | null): boolean {
  if (!saved) return true;
  return patchOf(d, saved) !== null;
}

/** Problems the editor can tell before saving, keyed like the server's pointers ("fields/0/name"). */
export function localProblems(d: FormDraft): Record<string, string> {
  const out: Record<string, string> = {};
  if (!d.name.trim()) out["name"] = "Give the form a name.";
  if (!ALIAS_PATTERN.test(d.alias.trim())) out["alias"] = "Use 1 to 60 lower-case letters, digits and dashes.";
  const seen = new Map<string, number>();
  d.fields.forEach((f, i) => {
    if (!f.label.trim()) out[`fields/${i}/label`] = "Give the field a label.";
    const name = f.name.trim();
    if (!NAME_PATTERN.test(name)) {
      out[`fields/${i}/name`] = "Start with a letter; use lower-case letters, digits and _ (60 at most).";
    } else if (seen.has(name)) {
      out[`fields/${i}/name`] = `Another field uses the name “${name}”.`;
    } else {
      seen.set(name, i);
    }
    if (HAS_OPTIONS.has(f.type)) {
      if (!f.options.length) out[`fields/${i}/options`] = "Add at least one option.";
      const values = new Set<string>();
      f.options.forEach((o, j) => {
        if (!o.value.trim()) out[`fields/${i}/options/${j}/value`] = "Give the option a value.";
        else if (values.has(o.value.trim())) out[`fields/${i}/options/${j}/value`] = "Two options have this value.";
        values.add(o.value.trim());
      });
    }
    if (f.type === "consent" && !(f.consent_text ?? "").trim())
      out[`fields/${i}/consent_text`] = "Write the consent text the contact agrees to.";
  });
  const mapped = new Map<string, number>();
  d.fields.forEach((f, i) => {
    if (!f.contact_field) return;
    if (mapped.has(f.contact_field)) out[`fields/${i}/contact_field`] = "Another field fills this contact field.";
    mapped.set(f.contact_field, i);
  });
  if (d.success.kind === "redirect" && !/^https?:\/\/\S+$/i.test(d.success.redirect_url.trim())) {
    out["success/redirect_url"] = "Enter a full http(s) URL.";
  }
  return out;
}

/** Advice that does not stop a save: the form can be saved, but may not work as meant. */
export function localWarnings(d: FormDraft): Record<string, string> {
  const out: Record<string, string> = {};
  if (d.fields.length && !d.fields.some((f) => f.contact_field === d.identify_by)) {
    out["identify_by"] = `No field fills “${d.identify_by}”: map a field to it so submissions find their contact.`;
  }
  if (d.is_published && !d.fields.some((f) => f.type !== "hidden")) {
    out["fields"] = "The form has no visible field.";
  }
  return out;
}
