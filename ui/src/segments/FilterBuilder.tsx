import {
  Button,
  ContentSwitcher,
  IconButton,
  MultiSelect,
  NumberInput,
  Select,
  SelectItem,
  Switch,
  TextInput,
} from "@carbon/react";
import { Add, TrashCan } from "@carbon/icons-react";
import type { ReactNode } from "react";
import { TagInput } from "../components/fields/TagInput";
import {
  appendGroup,
  appendItem,
  DNC_REASONS,
  fieldsForType,
  isGroup,
  newCondition,
  operatorsFor,
  pathKey,
  removeItem,
  reviseCondition,
  setMatch,
  updateItem,
  valueEditorFor,
  type FieldInfo,
  type FilterCondition,
  type FilterGroup,
  type FilterTypeInfo,
  type ItemError,
  type ItemPath,
  type ValueEditor,
} from "../lib/filterDoc";
import { fieldOptions } from "../lib/fieldTypes";
import { DATE_UNITS, formatDateValue, parseDateValue, RELATIVE_WORDS, type DateValue } from "../lib/relativeDate";
import { valueAsText } from "../lib/text";

export interface Choice {
  id: number;
  label: string;
}

export interface BuilderCatalog {
  types: FilterTypeInfo[];
  contactFields: FieldInfo[];
  companyFields: FieldInfo[];
  stages: Choice[];
  owners: Choice[];
  segments: Choice[];
}

interface Props {
  value: FilterGroup;
  onChange: (next: FilterGroup) => void;
  catalog: BuilderCatalog;
  errors: Map<string, ItemError[]>;
  readOnly?: boolean;
}

/** The nested AND/OR filter editor of the segment builder. */
export function FilterBuilder({ value, onChange, catalog, errors, readOnly = false }: Props) {
  return (
    <GroupEditor
      root={value}
      group={value}
      path={[]}
      onChange={onChange}
      catalog={catalog}
      errors={errors}
      readOnly={readOnly}
    />
  );
}

function describePath(path: ItemPath): string {
  return path.map((i) => i + 1).join(".");
}

function GroupEditor({
  root,
  group,
  path,
  onChange,
  catalog,
  errors,
  readOnly,
}: {
  root: FilterGroup;
  group: FilterGroup;
  path: ItemPath;
  onChange: (next: FilterGroup) => void;
  catalog: BuilderCatalog;
  errors: Map<string, ItemError[]>;
  readOnly: boolean;
}) {
  const first = catalog.types[0];
  const nested = path.length > 0;
  const groupErrors = errors.get(pathKey(path)) ?? [];
  const name = nested ? `Group ${describePath(path)}` : "All conditions";
  const joiner = group.match === "all" ? "AND" : "OR";
  return (
    <div className={nested ? "trellis-fgroup trellis-fgroup--nested" : "trellis-fgroup"} role="group" aria-label={name}>
      <div className="trellis-fgroup__head">
        <span className="trellis-fgroup__lead">{nested ? "Match" : "Contacts matching"}</span>
        <ContentSwitcher
          size="sm"
          className="trellis-fgroup__match"
          selectedIndex={group.match === "all" ? 0 : 1}
          aria-label={`${name}: how conditions combine`}
          onChange={(e: { name?: string | number }) =>
            !readOnly && onChange(setMatch(root, path, e.name === "any" ? "any" : "all"))
          }
        >
          <Switch name="all" text="All (AND)" disabled={readOnly} />
          <Switch name="any" text="Any (OR)" disabled={readOnly} />
        </ContentSwitcher>
        <span className="trellis-muted">of these conditions</span>
        {nested && !readOnly ? (
          <IconButton
            kind="ghost"
            size="sm"
            label={`Remove ${name.toLowerCase()}`}
            align="left"
            onClick={() => onChange(removeItem(root, path))}
          >
            <TrashCan />
          </IconButton>
        ) : null}
      </div>
      {groupErrors.map((e, i) => (
        <p key={i} className="trellis-error" role="alert">
          {e.member ? `${e.member}: ` : ""}
          {e.detail}
        </p>
      ))}
      {group.conditions.length === 0 ? (
        <p className="trellis-muted trellis-fgroup__empty">No conditions: every contact matches.</p>
      ) : null}
      <ol className="trellis-fgroup__items">
        {group.conditions.map((item, i) => {
          const itemPath = [...path, i];
          return (
            <li key={i}>
              {i > 0 ? (
                <span className="trellis-joiner" aria-hidden>
                  {joiner}
                </span>
              ) : null}
              {isGroup(item) ? (
                <GroupEditor
                  root={root}
                  group={item}
                  path={itemPath}
                  onChange={onChange}
                  catalog={catalog}
                  errors={errors}
                  readOnly={readOnly}
                />
              ) : (
                <ConditionRow
                  condition={item}
                  path={itemPath}
                  catalog={catalog}
                  errors={errors.get(pathKey(itemPath)) ?? []}
                  readOnly={readOnly}
                  onChange={(next) => onChange(updateItem(root, itemPath, () => next))}
                  onRemove={() => onChange(removeItem(root, itemPath))}
                />
              )}
            </li>
          );
        })}
      </ol>
      {!readOnly && first ? (
        <div className="trellis-fgroup__actions">
          <Button
            kind="ghost"
            size="sm"
            renderIcon={Add}
            onClick={() =>
              onChange(appendItem(root, path, newCondition(first, catalog.contactFields, catalog.companyFields)))
            }
          >
            {nested ? `Add condition to group ${describePath(path)}` : "Add condition"}
          </Button>
          {path.length < 4 ? (
            <Button
              kind="ghost"
              size="sm"
              renderIcon={Add}
              onClick={() =>
                onChange(appendGroup(root, path, newCondition(first, catalog.contactFields, catalog.companyFields)))
              }
            >
              {nested ? `Add nested group to group ${describePath(path)}` : "Add group"}
            </Button>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}

function errorFor(errors: ItemError[], member: string): string | undefined {
  const found = errors.filter((e) => e.member === member).map((e) => e.detail);
  return found.length ? found.join(" ") : undefined;
}

function ConditionRow({
  condition,
  path,
  catalog,
  errors,
  readOnly,
  onChange,
  onRemove,
}: {
  condition: FilterCondition;
  path: ItemPath;
  catalog: BuilderCatalog;
  errors: ItemError[];
  readOnly: boolean;
  onChange: (next: FilterCondition) => void;
  onRemove: () => void;
}) {
  const label = `Condition ${describePath(path)}`;
  const id = `cond-${path.join("-")}`;
  const type = catalog.types.find((t) => t.key === condition.type);
  const fields = fieldsForType(type, catalog.contactFields, catalog.companyFields);
  const field = fields.find((f) => f.alias === condition.field);
  const operators = operatorsFor(type, field);
  const operator = operators.find((o) => o.key === condition.operator);
  const editor = valueEditorFor(type, field, operator);
  const revise = (change: Partial<Pick<FilterCondition, "type" | "field" | "operator">>) =>
    onChange(reviseCondition(condition, change, catalog.types, catalog.contactFields, catalog.companyFields));
  const typeError = errorFor(errors, "type");
  const fieldError = errorFor(errors, "field");
  const operatorError = errorFor(errors, "operator");
  const valueError = errorFor(errors, "value");
  const otherErrors = errors.filter((e) => !["type", "field", "operator", "value"].includes(e.member ?? ""));
  const invalid = errors.length > 0;
  // Dates, ranges and lists get a line of their own under the selects.
  const wide =
    editor.shape === "pair" ||
    editor.kind === "date" ||
    editor.kind === "datetime" ||
    (editor.shape === "list" && editor.kind !== "dnc_reason");

  return (
    <div
      className={invalid ? "trellis-cond trellis-cond--invalid" : "trellis-cond"}
      role="group"
      aria-label={label}
      data-path={pathKey(path)}
    >
      <div
        className={type && type.field !== "none" ? "trellis-cond__row" : "trellis-cond__row trellis-cond__row--nofield"}
      >
        <Select
          id={`${id}-type`}
          labelText={`${label}: filter`}
          hideLabel
          size="md"
          value={condition.type}
          disabled={readOnly}
          invalid={!!typeError}
          invalidText={typeError}
          onChange={(e) => revise({ type: e.target.value })}
        >
          {!type ? <SelectItem value={condition.type} text={`Unknown (${condition.type})`} /> : null}
          {catalog.types.map((t) => (
            <SelectItem key={t.key} value={t.key} text={t.label} />
          ))}
        </Select>
        {type && type.field !== "none" ? (
          <Select
            id={`${id}-field`}
            labelText={type.field === "channel" ? `${label}: channel` : `${label}: field`}
            hideLabel
            size="md"
            value={condition.field ?? ""}
            disabled={readOnly}
            invalid={!!fieldError}
            invalidText={fieldError}
            onChange={(e) => revise({ field: e.target.value })}
          >
            {!field ? (
              <SelectItem
                value={condition.field ?? ""}
                text={condition.field ? `Unknown (${condition.field})` : "Choose a field"}
              />
            ) : null}
            {fields.map((f) => (
              <SelectItem key={f.alias} value={f.alias} text={f.label} />
            ))}
          </Select>
        ) : null}
        <Select
          id={`${id}-operator`}
          labelText={`${label}: operator`}
          hideLabel
          size="md"
          value={condition.operator}
          disabled={readOnly || operators.length === 0}
          invalid={!!operatorError}
          invalidText={operatorError}
          onChange={(e) => revise({ operator: e.target.value })}
        >
          {!operator ? (
            <SelectItem value={condition.operator} text={condition.operator || "Choose an operator"} />
          ) : null}
          {operators.map((o) => (
            <SelectItem key={o.key} value={o.key} text={o.label} />
          ))}
        </Select>
        <div className={wide ? "trellis-cond__value trellis-cond__value--wide" : "trellis-cond__value"}>
          <ValueInput
            id={`${id}-value`}
            label={`${label}: value`}
            editor={editor}
            field={field}
            value={condition.value}
            catalog={catalog}
            readOnly={readOnly}
            invalidText={valueError}
            onChange={(value) => onChange({ ...condition, value })}
          />
        </div>
        {!readOnly ? (
          <IconButton
            kind="ghost"
            size="md"
            label={`Remove ${label.toLowerCase()}`}
            align="left"
            onClick={onRemove}
            className="trellis-cond__remove"
          >
            <TrashCan />
          </IconButton>
        ) : null}
      </div>
      {otherErrors.map((e, i) => (
        <p key={i} className="trellis-error" role="alert">
          {e.detail}
        </p>
      ))}
    </div>
  );
}

function toNumber(text: string): number | string {
  if (text.trim() === "") return "";
  const n = Number(text);
  return Number.isFinite(n) ? n : text;
}

function ChoiceMulti({
  id,
  label,
  items,
  value,
  onChange,
  readOnly,
  invalidText,
}: {
  id: string;
  label: string;
  items: { id: string; text: string }[];
  value: unknown;
  onChange: (ids: string[]) => void;
  readOnly: boolean;
  invalidText?: string;
}) {
  const selected = Array.isArray(value) ? value.map(String) : [];
  return (
    <MultiSelect<{ id: string; text: string }>
      id={id}
      titleText={label}
      hideLabel
      label={
        selected.length
          ? items
              .filter((i) => selected.includes(i.id))
              .map((i) => i.text)
              .join(", ") || `${selected.length} selected`
          : "Choose"
      }
      items={items}
      itemToString={(i) => i?.text ?? ""}
      selectedItems={items.filter((i) => selected.includes(i.id))}
      sortItems={(list) => [...list]}
      onChange={({ selectedItems }) => onChange((selectedItems ?? []).map((i) => i.id))}
      disabled={readOnly}
      invalid={!!invalidText}
      invalidText={invalidText}
    />
  );
}

function ValueInput({
  id,
  label,
  editor,
  field,
  value,
  onChange,
  catalog,
  readOnly,
  invalidText,
}: {
  id: string;
  label: string;
  editor: ValueEditor;
  field: FieldInfo | undefined;
  value: unknown;
  onChange: (value: unknown) => void;
  catalog: BuilderCatalog;
  readOnly: boolean;
  invalidText?: string;
}): ReactNode {
  const invalid = !!invalidText;
  const { shape, kind } = editor;

  if (kind === "dnc_reason") {
    return (
      <ChoiceMulti
        id={id}
        label={`${label} (reasons; any when none)`}
        readOnly={readOnly}
        invalidText={invalidText}
        value={value}
        items={DNC_REASONS.map((r) => ({ id: r, text: r }))}
        onChange={(ids) => onChange(ids)}
      />
    );
  }
  if (shape === "none") return <span className="trellis-muted trellis-cond__novalue">No value needed</span>;

  if (kind === "stage" || kind === "owner" || kind === "segment") {
    const choices = kind === "stage" ? catalog.stages : kind === "owner" ? catalog.owners : catalog.segments;
    const items = choices.map((c) => ({ id: String(c.id), text: c.label }));
    const selected = Array.isArray(value) ? value : [];
    for (const v of selected)
      if (!items.some((i) => i.id === String(v))) items.push({ id: String(v), text: `#${String(v)}` });
    return (
      <ChoiceMulti
        id={id}
        label={label}
        readOnly={readOnly}
        invalidText={invalidText}
        value={value}
        items={items}
        onChange={(ids) => onChange(ids.map(Number))}
      />
    );
  }
  if (kind === "tag") {
    return (
      <TagInput
        id={id}
        labelText={label}
        hideLabel
        placeholder="Type a tag, then Enter"
        value={Array.isArray(value) ? value.map(String) : []}
        onChange={onChange}
        invalid={invalid}
        invalidText={invalidText}
        helperText=""
      />
    );
  }
  if (kind === "option") {
    const options = fieldOptions(field?.options);
    if (shape === "list") {
      return (
        <ChoiceMulti
          id={id}
          label={label}
          readOnly={readOnly}
          invalidText={invalidText}
          value={value}
          items={options.map((o) => ({ id: o.value, text: o.label ?? o.value }))}
          onChange={(ids) => onChange(ids)}
        />
      );
    }
    return (
      <Select
        id={id}
        labelText={label}
        hideLabel
        value={typeof value === "string" ? value : ""}
        disabled={readOnly}
        invalid={invalid}
        invalidText={invalidText}
        onChange={(e) => onChange(e.target.value)}
      >
        <SelectItem value="" text="Choose" />
        {options.map((o) => (
          <SelectItem key={o.value} value={o.value} text={o.label ?? o.value} />
        ))}
      </Select>
    );
  }
  if (kind === "boolean") {
    return (
      <Select
        id={id}
        labelText={label}
        hideLabel
        value={value === false ? "false" : "true"}
        disabled={readOnly}
        invalid={invalid}
        invalidText={invalidText}
        onChange={(e) => onChange(e.target.value === "true")}
      >
        <SelectItem value="true" text="Yes" />
        <SelectItem value="false" text="No" />
      </Select>
    );
  }
  if (kind === "date" || kind === "datetime") {
    if (shape === "pair") {
      const pair: unknown[] = Array.isArray(value) ? value : ["", ""];
      return (
        <div className="trellis-pair">
          <DateValueInput
            id={`${id}-from`}
            label={`${label} from`}
            value={pair[0]}
            datetime={kind === "datetime"}
            readOnly={readOnly}
            invalidText={invalidText}
            onChange={(v) => onChange([v, pair[1] ?? ""])}
          />
          <span aria-hidden>and</span>
          <DateValueInput
            id={`${id}-to`}
            label={`${label} to`}
            value={pair[1]}
            datetime={kind === "datetime"}
            readOnly={readOnly}
            onChange={(v) => onChange([pair[0] ?? "", v])}
          />
        </div>
      );
    }
    return (
      <DateValueInput
        id={id}
        label={label}
        value={value}
        datetime={kind === "datetime"}
        readOnly={readOnly}
        invalidText={invalidText}
        onChange={onChange}
      />
    );
  }
  // text and number
  const isNumber = kind === "number";
  if (shape === "list") {
    return (
      <TagInput
        id={id}
        labelText={label}
        hideLabel
        placeholder="Type a value, then Enter"
        suggest={false}
        helperText=""
        invalid={invalid}
        invalidText={invalidText}
        value={Array.isArray(value) ? value.map(String) : []}
        onChange={(items) => onChange(isNumber ? items.map(toNumber) : items)}
      />
    );
  }
  if (shape === "pair") {
    const pair = Array.isArray(value) ? value : ["", ""];
    const set = (i: number, text: string) => {
      const next = [pair[0] ?? "", pair[1] ?? ""];
      next[i] = isNumber ? toNumber(text) : text;
      onChange(next);
    };
    return (
      <div className="trellis-pair">
        <TextInput
          id={`${id}-from`}
          labelText={`${label} from`}
          hideLabel
          type={isNumber ? "number" : "text"}
          value={String(pair[0] ?? "")}
          disabled={readOnly}
          invalid={invalid}
          invalidText={invalidText}
          onChange={(e) => set(0, e.target.value)}
        />
        <span aria-hidden>and</span>
        <TextInput
          id={`${id}-to`}
          labelText={`${label} to`}
          hideLabel
          type={isNumber ? "number" : "text"}
          value={String(pair[1] ?? "")}
          disabled={readOnly}
          onChange={(e) => set(1, e.target.value)}
        />
      </div>
    );
  }
  return (
    <TextInput
      id={id}
      labelText={label}
      hideLabel
      type={isNumber ? "number" : "text"}
      value={valueAsText(value)}
      disabled={readOnly}
      invalid={invalid}
      invalidText={invalidText}
      placeholder={isNumber ? "A number" : "A value"}
      onChange={(e) => onChange(isNumber ? toNumber(e.target.value) : e.target.value)}
    />
  );
}

const MODE_DATE = "__date";
const MODE_AGO = "__ago";
const MODE_AHEAD = "__ahead";

/** A date condition's value: a date (or time), a named period, or N units ago / from now. */
function DateValueInput({
  id,
  label,
  value,
  datetime,
  readOnly,
  invalidText,
  onChange,
}: {
  id: string;
  label: string;
  value: unknown;
  datetime: boolean;
  readOnly: boolean;
  invalidText?: string;
  onChange: (value: string) => void;
}) {
  const parsed = parseDateValue(value);
  const mode =
    parsed.mode === "relative"
      ? parsed.word
      : parsed.mode === "offset"
        ? parsed.n < 0
          ? MODE_AGO
          : MODE_AHEAD
        : MODE_DATE;
  const set = (next: DateValue) => onChange(formatDateValue(next));
  return (
    <div className="trellis-datevalue">
      <Select
        id={`${id}-mode`}
        labelText={`${label}: kind of date`}
        hideLabel
        value={mode}
        disabled={readOnly}
        invalid={!!invalidText}
        invalidText={invalidText}
        onChange={(e) => {
          const m = e.target.value;
          if (m === MODE_DATE) set({ mode: "date", date: "" });
          else if (m === MODE_AGO)
            set({
              mode: "offset",
              n: -(parsed.mode === "offset" ? Math.abs(parsed.n) || 1 : 1),
              unit: parsed.mode === "offset" ? parsed.unit : "day",
            });
          else if (m === MODE_AHEAD)
            set({
              mode: "offset",
              n: parsed.mode === "offset" ? Math.abs(parsed.n) || 1 : 1,
              unit: parsed.mode === "offset" ? parsed.unit : "day",
            });
          else set({ mode: "relative", word: m as DateValue extends { word: infer W } ? W : never });
        }}
      >
        <SelectItem value={MODE_DATE} text={datetime ? "A date or time" : "A date"} />
        {RELATIVE_WORDS.map((w) => (
          <SelectItem key={w} value={w} text={w.charAt(0).toUpperCase() + w.slice(1)} />
        ))}
        <SelectItem value={MODE_AGO} text="… ago" />
        <SelectItem value={MODE_AHEAD} text="… from now" />
      </Select>
      {parsed.mode === "date" ? (
        <TextInput
          id={id}
          labelText={label}
          hideLabel
          type={datetime && parsed.date.length > 10 ? "datetime-local" : "date"}
          value={datetime && parsed.date.length > 10 ? parsed.date.slice(0, 16) : parsed.date.slice(0, 10)}
          disabled={readOnly}
          onChange={(e) => set({ mode: "date", date: e.target.value })}
        />
      ) : null}
      {parsed.mode === "offset" ? (
        <>
          <NumberInput
            id={`${id}-n`}
            label={`${label}: how many`}
            hideLabel
            min={0}
            max={9999}
            step={1}
            value={Math.abs(parsed.n)}
            disabled={readOnly}
            hideSteppers
            onChange={(_e, { value: v }) => {
              const n = Math.abs(Math.trunc(Number(v) || 0));
              set({ mode: "offset", n: parsed.n < 0 ? -n : n, unit: parsed.unit });
            }}
          />
          <Select
            id={`${id}-unit`}
            labelText={`${label}: unit`}
            hideLabel
            value={parsed.unit}
            disabled={readOnly}
            onChange={(e) => set({ mode: "offset", n: parsed.n, unit: e.target.value as (typeof DATE_UNITS)[number] })}
          >
            {DATE_UNITS.map((u) => (
              <SelectItem key={u} value={u} text={`${u}s`} />
            ))}
          </Select>
        </>
      ) : null}
    </div>
  );
}
