/**
 * A form rendered from an event type's JSON Schema (the schema the API validates the step's
 * config with): strings, numbers, booleans, enums, arrays, nested objects, free maps,
 * anyOf/nullable and $defs/$ref, with pickers for the things a step refers to.
 */
import { Add, TrashCan } from "@carbon/icons-react";
import { Button, NumberInput, Select, SelectItem, TextArea, TextInput, Toggle } from "@carbon/react";
import { useState } from "react";
import {
  fieldKind,
  fieldLabel,
  getIn,
  initialValue,
  parseNumber,
  pathKey,
  pickerFor,
  removeAt,
  resolve,
  setIn,
  unwrapNullable,
  type JsonSchema,
  type Path,
  type PickerKind,
} from "../lib/schemaForm";
import { MultiPicker, SinglePicker, type StepOption } from "./pickers";
import { valueAsText } from "../../lib/text";

export interface SchemaFormProps {
  idPrefix: string;
  typeKey: string;
  schema: JsonSchema;
  value: Record<string, unknown>;
  onChange: (value: Record<string, unknown>) => void;
  /** Error messages keyed by the path inside the config ("url", "headers/0/name"; "" for the whole). */
  errors: Record<string, string>;
  steps: readonly StepOption[];
  /** What the event type's config fields refer to (GET /api/v2/event-types `references`). */
  references?: Readonly<Record<string, string>>;
}

interface FieldProps {
  ctx: SchemaFormProps;
  path: Path;
  name: string | number;
  schema: JsonSchema | undefined;
  required: boolean;
}

const LONG_TEXT = 300;

const SINGLE_PICKER_LABEL: Partial<Record<PickerKind, string>> = {
  email: "Email",
  form: "Form",
  page: "Landing page",
  asset: "Asset",
  segment: "Segment",
  user: "User",
  company: "Company",
  stage: "Stage",
  campaign: "Campaign",
};

function update(ctx: SchemaFormProps, path: Path, next: unknown) {
  ctx.onChange(setIn(ctx.value, path, next) as Record<string, unknown>);
}

function Field({ ctx, path, name, schema: raw, required }: FieldProps) {
  const root = ctx.schema;
  const { schema, nullable } = unwrapNullable(raw, root);
  const value = getIn(ctx.value, path);
  const id = `${ctx.idPrefix}-${pathKey(path).replace(/[^A-Za-z0-9_-]/g, "_")}`;
  const picker = typeof name === "string" && path.length === 1 ? pickerFor(ctx.typeKey, name, ctx.references) : null;
  // "Email", not the schema's "Email Id": the picker takes a name, the id is its business.
  const pickerLabel = picker && fieldKind(schema) !== "array" ? SINGLE_PICKER_LABEL[picker] : undefined;
  const label = `${pickerLabel ?? (picker === "email_link" ? "Links" : fieldLabel(name, schema))}${required ? "" : " (optional)"}`;
  const helper = schema.description ?? raw?.description;
  const error = ctx.errors[pathKey(path)];
  const invalid = error ? { invalid: true, invalidText: error } : {};
  const set = (next: unknown) => update(ctx, path, next);
  const kind = fieldKind(schema);

  if (picker) {
    if (kind === "array") {
      const allowThis = JSON.stringify(schema.items ?? {}).includes('"this"');
      return (
        <MultiPicker
          id={id}
          kind={picker}
          label={label}
          helper={helper}
          invalidText={error}
          steps={ctx.steps}
          value={value}
          allowThis={allowThis}
          emailId={picker === "email_link" ? getIn(ctx.value, ["email_id"]) : undefined}
          onChange={(v) => set(v)}
        />
      );
    }
    return (
      <SinglePicker
        id={id}
        kind={picker}
        label={label}
        helper={helper}
        invalidText={error}
        steps={ctx.steps}
        value={value}
        onChange={(v) => set(v === null ? (nullable ? null : undefined) : v)}
      />
    );
  }

  switch (kind) {
    case "boolean":
      return (
        <div>
          <Toggle
            id={id}
            labelText={fieldLabel(name, schema)}
            labelA="No"
            labelB="Yes"
            toggled={value === true}
            onToggle={(on: boolean) => set(on)}
          />
          {helper ? <p className="trellis-cb__helper">{helper}</p> : null}
          {error ? <p className="trellis-cb__error">{error}</p> : null}
        </div>
      );
    case "enum": {
      const options = schema.enum ?? [];
      return (
        <Select
          id={id}
          labelText={label}
          helperText={helper}
          value={valueAsText(value)}
          onChange={(e) => {
            const picked = options.find((o) => String(o) === e.target.value);
            set(e.target.value === "" ? (nullable ? null : undefined) : picked);
          }}
          {...invalid}
        >
          {nullable || value === undefined || value === null ? (
            <SelectItem value="" text={nullable ? "None" : "Choose"} />
          ) : null}
          {options.map((o) => (
            <SelectItem key={String(o)} value={String(o)} text={String(o)} />
          ))}
        </Select>
      );
    }
    case "integer":
    case "number":
      return (
        <NumberInput
          id={id}
          label={label}
          helperText={helper}
          min={schema.minimum}
          max={schema.maximum}
          step={kind === "integer" ? 1 : 0.1}
          allowEmpty
          hideSteppers={false}
          value={typeof value === "number" ? value : ""}
          onChange={(_e, { value: v }) => set(parseNumber(String(v ?? ""), kind === "integer", nullable))}
          {...invalid}
        />
      );
    case "string": {
      const long = (schema.maxLength ?? 0) > LONG_TEXT;
      const text = typeof value === "string" ? value : "";
      return long ? (
        <TextArea
          id={id}
          labelText={label}
          helperText={helper}
          rows={4}
          value={text}
          onChange={(e) => set(e.target.value)}
          {...invalid}
        />
      ) : (
        <TextInput
          id={id}
          labelText={label}
          helperText={helper}
          value={text}
          onChange={(e) => set(e.target.value)}
          {...invalid}
        />
      );
    }
    case "array":
      return (
        <ArrayField
          ctx={ctx}
          path={path}
          name={name}
          schema={schema}
          required={required}
          id={id}
          label={label}
          helper={helper}
          error={error}
        />
      );
    case "object":
      return (
        <fieldset className="trellis-cb__fieldset">
          <legend>{label}</legend>
          {helper ? <p className="trellis-cb__helper">{helper}</p> : null}
          {Object.entries(schema.properties ?? {}).map(([child, childSchema]) => (
            <Field
              key={child}
              ctx={ctx}
              path={[...path, child]}
              name={child}
              schema={childSchema}
              required={(schema.required ?? []).includes(child)}
            />
          ))}
          {error ? <p className="trellis-cb__error">{error}</p> : null}
        </fieldset>
      );
    case "map":
      return <MapField ctx={ctx} path={path} id={id} label={label} helper={helper} error={error} value={value} />;
    default:
      return (
        <JsonField
          id={id}
          label={label}
          helper={helper ?? "Any value, as JSON (text without quotes is kept as text)."}
          error={error}
          value={value}
          onChange={set}
        />
      );
  }
}

function ArrayField({
  ctx,
  path,
  name,
  schema,
  id,
  label,
  helper,
  error,
}: FieldProps & { id: string; label: string; helper?: string; error?: string; schema: JsonSchema }) {
  const root = ctx.schema;
  const items = resolve(schema.items, root);
  const itemKind = fieldKind(unwrapNullable(items, root).schema);
  const value = getIn(ctx.value, path);
  const list: unknown[] = Array.isArray(value) ? value : [];
  // Lists of plain strings or numbers edit as one comma separated text: quicker than rows.
  if ((itemKind === "string" || itemKind === "integer" || itemKind === "number") && !items.pattern?.includes("\\x")) {
    return (
      <ScalarListField
        id={id}
        label={label}
        helper={helper}
        error={error}
        list={list}
        integer={itemKind !== "string"}
        onChange={(next) => update(ctx, path, next)}
      />
    );
  }
  return (
    <fieldset className="trellis-cb__fieldset" aria-describedby={helper ? `${id}-helper` : undefined}>
      <legend>{label}</legend>
      {helper ? (
        <p id={`${id}-helper`} className="trellis-cb__helper">
          {helper}
        </p>
      ) : null}
      {list.map((_, index) => (
        <div key={index} className="trellis-cb__array-item">
          <Field
            ctx={ctx}
            path={[...path, index]}
            name={`${fieldLabel(name, schema)} ${index + 1}`}
            schema={schema.items}
            required
          />
          <Button
            kind="ghost"
            size="sm"
            hasIconOnly
            renderIcon={TrashCan}
            iconDescription={`Remove ${fieldLabel(name, schema)} ${index + 1}`}
            onClick={() => update(ctx, path, removeAt(list, index))}
          />
        </div>
      ))}
      {schema.maxItems === undefined || list.length < schema.maxItems ? (
        <Button
          kind="tertiary"
          size="sm"
          renderIcon={Add}
          onClick={() => update(ctx, path, [...list, initialValue(schema.items, root) ?? null])}
        >
          Add {fieldLabel(name, schema).toLowerCase()}
        </Button>
      ) : null}
      {error ? <p className="trellis-cb__error">{error}</p> : null}
    </fieldset>
  );
}

function ScalarListField({
  id,
  label,
  helper,
  error,
  list,
  integer,
  onChange,
}: {
  id: string;
  label: string;
  helper?: string;
  error?: string;
  list: unknown[];
  integer: boolean;
  onChange: (next: unknown[]) => void;
}) {
  const [text, setText] = useState(() => list.map(String).join(", "));
  const [last, setLast] = useState(list);
  if (
    list !== last &&
    list.map(String).join(", ") !==
      text
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
        .join(", ")
  ) {
    setLast(list);
    setText(list.map(String).join(", "));
  }
  return (
    <TextInput
      id={id}
      labelText={label}
      helperText={helper ? `${helper} Separate values with commas.` : "Separate values with commas."}
      value={text}
      onChange={(e) => {
        setText(e.target.value);
        const parts = e.target.value
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean);
        const next = integer ? parts.map((p) => parseNumber(p, true, false) ?? p) : parts;
        setLast(next);
        onChange(next);
      }}
      invalid={!!error}
      invalidText={error}
    />
  );
}

/** A free object (field alias -> value, filters): edited as rows of key and value, or JSON. */
function MapField({
  ctx,
  path,
  id,
  label,
  helper,
  error,
  value,
}: {
  ctx: SchemaFormProps;
  path: Path;
  id: string;
  label: string;
  helper?: string;
  error?: string;
  value: unknown;
}) {
  const obj = value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  const flat = Object.values(obj).every((v) => v === null || ["string", "number", "boolean"].includes(typeof v));
  const [asJson, setAsJson] = useState(!flat);
  const entries = Object.entries(obj);
  const set = (next: Record<string, unknown>) => update(ctx, path, next);
  if (asJson) {
    return (
      <div>
        <JsonField
          id={id}
          label={label}
          helper={helper}
          error={error}
          value={obj}
          onChange={(v) => set((v ?? {}) as Record<string, unknown>)}
        />
        {flat ? (
          <Button kind="ghost" size="sm" onClick={() => setAsJson(false)}>
            Edit as rows
          </Button>
        ) : null}
      </div>
    );
  }
  const keyName = ctx.typeKey === "contact.update_fields" ? "Field" : "Key";
  return (
    <fieldset className="trellis-cb__fieldset">
      <legend>{label}</legend>
      {helper ? <p className="trellis-cb__helper">{helper}</p> : null}
      {entries.map(([k, v], index) => (
        <div key={index} className="trellis-cb__map-row">
          {ctx.typeKey === "contact.update_fields" ? (
            <SinglePicker
              id={`${id}-key-${index}`}
              kind="field"
              label={`${keyName} ${index + 1}`}
              steps={[]}
              value={k}
              onChange={(alias) => {
                if (typeof alias !== "string" || alias in obj) return;
                set(Object.fromEntries(entries.map(([ek, ev]) => (ek === k ? [alias, ev] : [ek, ev]))));
              }}
            />
          ) : (
            <TextInput
              id={`${id}-key-${index}`}
              labelText={`${keyName} ${index + 1}`}
              value={k}
              onChange={(e) => {
                const nk = e.target.value;
                if (nk in obj && nk !== k) return;
                set(Object.fromEntries(entries.map(([ek, ev]) => (ek === k ? [nk, ev] : [ek, ev]))));
              }}
            />
          )}
          <TextInput
            id={`${id}-value-${index}`}
            labelText={`Value ${index + 1}`}
            value={valueAsText(v)}
            onChange={(e) => set({ ...obj, [k]: e.target.value })}
          />
          <Button
            kind="ghost"
            size="sm"
            hasIconOnly
            renderIcon={TrashCan}
            iconDescription={`Remove ${k || `row ${index + 1}`}`}
            onClick={() => set(Object.fromEntries(entries.filter(([ek]) => ek !== k)))}
          />
        </div>
      ))}
      <div className="trellis-cb__row-actions">
        <Button kind="tertiary" size="sm" renderIcon={Add} disabled={"" in obj} onClick={() => set({ ...obj, "": "" })}>
          Add a row
        </Button>
        <Button kind="ghost" size="sm" onClick={() => setAsJson(true)}>
          Edit as JSON
        </Button>
      </div>
      {error ? <p className="trellis-cb__error">{error}</p> : null}
    </fieldset>
  );
}

/** Any JSON value as text; text that is not JSON is kept as a string. */
function JsonField({
  id,
  label,
  helper,
  error,
  value,
  onChange,
}: {
  id: string;
  label: string;
  helper?: string;
  error?: string;
  value: unknown;
  onChange: (v: unknown) => void;
}) {
  const shown = value === undefined ? "" : typeof value === "string" ? value : JSON.stringify(value, null, 2);
  const [text, setText] = useState(shown);
  const [parseError, setParseError] = useState<string | null>(null);
  const multiline = typeof value === "object" && value !== null;
  const commit = (t: string) => {
    setText(t);
    if (t.trim() === "") {
      setParseError(null);
      onChange(multiline ? {} : null);
      return;
    }
    try {
      onChange(JSON.parse(t));
      setParseError(null);
    } catch {
      if (multiline) setParseError("Not valid JSON yet.");
      else onChange(t);
    }
  };
  const problem = parseError ?? error;
  return multiline ? (
    <TextArea
      id={id}
      labelText={label}
      helperText={helper}
      rows={6}
      value={text}
      onChange={(e) => commit(e.target.value)}
      invalid={!!problem}
      invalidText={problem ?? undefined}
      className="trellis-cb__json"
    />
  ) : (
    <TextInput
      id={id}
      labelText={label}
      helperText={helper}
      value={text}
      onChange={(e) => commit(e.target.value)}
      invalid={!!problem}
      invalidText={problem ?? undefined}
    />
  );
}

export function SchemaForm(props: SchemaFormProps) {
  const root = resolve(props.schema, props.schema);
  const properties = Object.entries(root.properties ?? {});
  const whole = props.errors[""];
  if (!properties.length) {
    return <p className="trellis-cb__helper">This step has no settings.</p>;
  }
  return (
    <div className="trellis-cb__schema-form">
      {whole ? <p className="trellis-cb__error">{whole}</p> : null}
      {properties.map(([name, schema]) => (
        <Field
          key={name}
          ctx={props}
          path={[name]}
          name={name}
          schema={schema}
          required={(root.required ?? []).includes(name)}
        />
      ))}
    </div>
  );
}
