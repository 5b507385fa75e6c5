/**
 * The field editor: the form's fields in order (add from the field types, move with buttons or by
 * dragging, duplicate, remove), and the chosen field's settings.
 */
import { Add, ArrowDown, ArrowUp, Copy, Draggable, TrashCan, WarningFilled } from "@carbon/icons-react";
import {
  Button,
  Checkbox,
  ComboBox,
  IconButton,
  NumberInput,
  OverflowMenu,
  OverflowMenuItem,
  Select,
  SelectItem,
  Tag,
  TextArea,
  TextInput,
} from "@carbon/react";
import { useState, type Dispatch } from "react";
import { useFields } from "../api/queries";
import { fieldError, fieldErrorCount, invalid, type EditorErrors } from "./errors";
import {
  applies,
  HAS_OPTIONS,
  MAX_FIELDS,
  typeLabel,
  type DraftAction,
  type FieldDraft,
  type FieldPatch,
  type FormDraft,
} from "./fields";
import type { FieldType, FieldTypeInfo, FieldValidation } from "./types";

interface Props {
  draft: FormDraft;
  dispatch: Dispatch<DraftAction>;
  catalogue: readonly FieldTypeInfo[];
  errors: EditorErrors;
  readOnly: boolean;
  selected: number;
  onSelect: (index: number) => void;
}

export function FieldList({ draft, dispatch, catalogue, errors, readOnly, selected, onSelect }: Props) {
  const [dragging, setDragging] = useState<number | null>(null);
  const [over, setOver] = useState<number | null>(null);
  const count = draft.fields.length;
  const moveTo = (from: number, to: number) => {
    dispatch({ type: "moveField", from, to });
    onSelect(to);
  };
  return (
    <section className="trellis-fe__list" aria-labelledby="form-fields-heading">
      <div className="trellis-fe__list-head">
        <h2 id="form-fields-heading" className="trellis-h3">
          Fields ({count})
        </h2>
        {readOnly ? null : (
          <OverflowMenu
            aria-label="Add a field"
            iconDescription="Add a field"
            renderIcon={() => (
              <span className="trellis-fe__add">
                <Add size={16} aria-hidden /> Add a field
              </span>
            )}
            className="trellis-fe__add-menu"
            menuOptionsClass="trellis-fe__add-options"
            flipped
            size="md"
            disabled={count >= MAX_FIELDS}
          >
            {catalogue.map((t) => (
              <OverflowMenuItem
                key={t.type}
                itemText={t.label}
                onClick={() => {
                  const at = selected >= 0 && selected < count ? selected + 1 : count;
                  dispatch({ type: "addField", fieldType: t.type, at });
                  onSelect(at);
                }}
              />
            ))}
          </OverflowMenu>
        )}
      </div>
      {count === 0 ? <p className="trellis-muted">No field yet: add one.</p> : null}
      <ol className="trellis-fe__fields" aria-label="Fields in display order">
        {draft.fields.map((f, i) => {
          const problems = fieldErrorCount(errors, f.key);
          const label = f.label.trim() || f.name || `Field ${i + 1}`;
          return (
            <li
              key={f.key}
              className={`trellis-fe__row${i === selected ? " is-selected" : ""}${over === i && dragging !== null && dragging !== i ? " is-drop-target" : ""}`}
              draggable={!readOnly}
              onDragStart={(e) => {
                setDragging(i);
                e.dataTransfer.effectAllowed = "move";
                e.dataTransfer.setData("text/plain", String(i));
              }}
              onDragOver={(e) => {
                if (dragging === null) return;
                e.preventDefault();
                setOver(i);
              }}
              onDragLeave={() => setOver((o) => (o === i ? null : o))}
              onDrop={(e) => {
                e.preventDefault();
                if (dragging !== null && dragging !== i) moveTo(dragging, i);
                setDragging(null);
                setOver(null);
              }}
              onDragEnd={() => {
                setDragging(null);
                setOver(null);
              }}
              data-field-key={f.key}
            >
              {readOnly ? null : <Draggable size={16} aria-hidden className="trellis-fe__grip" />}
              <button
                type="button"
                className="trellis-fe__pick"
                aria-pressed={i === selected}
                onClick={() => onSelect(i)}
              >
                <span className="trellis-fe__label">
                  {label}
                  {f.required ? (
                    <span className="trellis-fp__required" aria-label="required">
                      *
                    </span>
                  ) : null}
                </span>
                <span className="trellis-fe__meta">
                  {typeLabel(f.type, catalogue)} · <code>{f.name}</code>
                  {f.contact_field ? <> → {f.contact_field}</> : null}
                </span>
              </button>
              {problems ? (
                <Tag size="sm" type="red" renderIcon={WarningFilled} title="This field has problems">
                  {problems}
                </Tag>
              ) : null}
              {readOnly ? null : (
                <span className="trellis-fe__row-actions">
                  <IconButton
                    kind="ghost"
                    size="sm"
                    label={`Move ${label} up`}
                    disabled={i === 0}
                    onClick={() => moveTo(i, i - 1)}
                  >
                    <ArrowUp />
                  </IconButton>
                  <IconButton
                    kind="ghost"
                    size="sm"
                    label={`Move ${label} down`}
                    disabled={i === count - 1}
                    onClick={() => moveTo(i, i + 1)}
                  >
                    <ArrowDown />
                  </IconButton>
                  <IconButton
                    kind="ghost"
                    size="sm"
                    label={`Duplicate ${label}`}
                    disabled={count >= MAX_FIELDS}
                    onClick={() => {
                      dispatch({ type: "duplicateField", index: i });
                      onSelect(i + 1);
                    }}
                  >
                    <Copy />
                  </IconButton>
                  <IconButton
                    kind="ghost"
                    size="sm"
                    label={`Remove ${label}`}
                    onClick={() => {
                      dispatch({ type: "removeField", index: i });
                      onSelect(Math.min(i, count - 2));
                    }}
                  >
                    <TrashCan />
                  </IconButton>
                </span>
              )}
            </li>
          );
        })}
      </ol>
    </section>
  );
}

function numberOrNull(value: string | number): number | null {
  if (value === "" || value === null || value === undefined) return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

const RULES: { rule: keyof FieldValidation; label: string; integer: boolean }[] = [
  { rule: "min_length", label: "Shortest length", integer: true },
  { rule: "max_length", label: "Longest length", integer: true },
  { rule: "min", label: "Smallest value", integer: false },
  { rule: "max", label: "Largest value", integer: false },
];

/** The settings of the field at `index`. */
export function FieldSettings({
  draft,
  dispatch,
  catalogue,
  errors,
  readOnly,
  index,
}: Omit<Props, "selected" | "onSelect"> & { index: number }) {
  const field: FieldDraft | undefined = draft.fields[index];
  const contactFields = useFields("contact");
  if (!field) return <p className="trellis-muted">Choose a field to edit it.</p>;
  const key = field.key;
  const err = (path: string, deep = false) => invalid(fieldError(errors, key, path, deep));
  const has = (attr: string) => applies(field.type, attr, catalogue);
  const update = (patch: FieldPatch) => dispatch({ type: "updateField", index, patch });
  const fieldsItems = (contactFields.data ?? []).map((f) => ({ id: f.alias, label: `${f.label} (${f.alias})` }));
  const usedElsewhere = new Set(
    draft.fields
      .filter((_, i) => i !== index)
      .map((f) => f.contact_field)
      .filter(Boolean),
  );
  const mapItems = fieldsItems.filter((f) => !usedElsewhere.has(f.id));
  if (field.contact_field && !mapItems.some((f) => f.id === field.contact_field))
    mapItems.unshift({ id: field.contact_field, label: field.contact_field });
  const general = fieldError(errors, key, "");
  const options = field.options;
  const defaultChoices = Array.isArray(field.default)
    ? field.default
    : field.default === null || field.default === ""
      ? []
      : [String(field.default)];

  return (
    <fieldset className="trellis-fe__settings" disabled={readOnly} aria-labelledby={`field-settings-${key}`}>
      <h2 id={`field-settings-${key}`} className="trellis-h3">
        {field.label.trim() || field.name} <span className="trellis-muted">· {typeLabel(field.type, catalogue)}</span>
      </h2>
      {general ? (
        <p className="trellis-fe__error" role="alert">
          {general}
        </p>
      ) : null}
      <div className="trellis-grid-2">
        <TextInput
          id={`field-${key}-label`}
          labelText="Label"
          value={field.label}
          onChange={(e) => dispatch({ type: "setLabel", index, label: e.target.value })}
          {...err("label")}
        />
        <TextInput
          id={`field-${key}-name`}
          labelText="Input name"
          value={field.name}
          helperText={
            field.nameEdited ? "The name the value is posted under." : "Follows the label until you change it."
          }
          onChange={(e) => dispatch({ type: "setFieldName", index, name: e.target.value })}
          {...err("name")}
        />
        <Select
          id={`field-${key}-type`}
          labelText="Type"
          value={field.type}
          onChange={(e) => dispatch({ type: "setFieldType", index, fieldType: e.target.value as FieldType })}
          {...err("type")}
        >
          {catalogue.map((t) => (
            <SelectItem key={t.type} value={t.type} text={t.label} />
          ))}
        </Select>
        {has("contact_field") ? (
          <ComboBox<{ id: string; label: string }>
            id={`field-${key}-contact-field`}
            titleText="Saved to contact field"
            helperText="Empty: kept with the submission only."
            items={mapItems}
            itemToString={(f) => (f ? f.label : "")}
            selectedItem={mapItems.find((f) => f.id === field.contact_field) ?? null}
            onChange={({ selectedItem }) => update({ contact_field: selectedItem?.id ?? null })}
            placeholder={contactFields.isPending ? "Loading fields…" : "Choose a contact field"}
            {...err("contact_field")}
          />
        ) : null}
      </div>
      {field.type !== "hidden" ? (
        <Checkbox
          id={`field-${key}-required`}
          labelText={field.type === "consent" ? "Required: the form cannot be sent without consent" : "Required"}
          checked={field.required}
          onChange={(_e, { checked }) => update({ required: checked })}
        />
      ) : null}
      {field.type === "consent" ? (
        <TextArea
          id={`field-${key}-consent`}
          labelText="Consent text"
          rows={3}
          value={field.consent_text ?? ""}
          helperText="Shown next to the checkbox and stored with each submission."
          onChange={(e) => update({ consent_text: e.target.value })}
          {...err("consent_text")}
        />
      ) : null}
      <div className="trellis-grid-2">
        {has("placeholder") ? (
          <TextInput
            id={`field-${key}-placeholder`}
            labelText={field.type === "select" ? "First line of the list" : "Placeholder"}
            value={field.placeholder}
            onChange={(e) => update({ placeholder: e.target.value })}
            {...err("placeholder")}
          />
        ) : null}
        {has("default") && field.type !== "checkbox_group" ? (
          HAS_OPTIONS.has(field.type) ? (
            <Select
              id={`field-${key}-default`}
              labelText="Default value"
              value={typeof field.default === "string" ? field.default : ""}
              onChange={(e) => update({ default: e.target.value || null })}
              {...err("default")}
            >
              <SelectItem value="" text="None" />
              {options.map((o, i) => (
                <SelectItem key={`${i}-${o.value}`} value={o.value} text={o.label || o.value} />
              ))}
            </Select>
          ) : (
            <TextInput
              id={`field-${key}-default`}
              labelText={field.type === "hidden" ? "Value" : "Default value"}
              type={field.type === "date" ? "date" : field.type === "number" ? "number" : "text"}
              value={field.default === null || Array.isArray(field.default) ? "" : String(field.default)}
              onChange={(e) => update({ default: e.target.value === "" ? null : e.target.value })}
              {...err("default")}
            />
          )
        ) : null}
      </div>
      {has("help") && field.type !== "hidden" ? (
        <TextInput
          id={`field-${key}-help`}
          labelText="Help text"
          value={field.help}
          onChange={(e) => update({ help: e.target.value })}
          {...err("help")}
        />
      ) : null}
      {HAS_OPTIONS.has(field.type) ? (
        <fieldset className="trellis-fe__options">
          <legend className="cds--label">Options</legend>
          {fieldError(errors, key, "options") ? (
            <p className="trellis-fe__error" role="alert">
              {fieldError(errors, key, "options")}
            </p>
          ) : null}
          <ol>
            {options.map((o, j) => (
              <li key={j} className="trellis-fe__option">
                <TextInput
                  id={`field-${key}-option-${j}-label`}
                  labelText={`Option ${j + 1} label`}
                  size="sm"
                  value={o.label}
                  onChange={(e) =>
                    dispatch({ type: "updateOption", index, option: j, patch: { label: e.target.value } })
                  }
                  {...err(`options/${j}/label`)}
                />
                <TextInput
                  id={`field-${key}-option-${j}-value`}
                  labelText={`Option ${j + 1} value`}
                  size="sm"
                  value={o.value}
                  onChange={(e) =>
                    dispatch({ type: "updateOption", index, option: j, patch: { value: e.target.value } })
                  }
                  {...err(`options/${j}/value`)}
                />
                {field.type === "checkbox_group" ? (
                  <Checkbox
                    id={`field-${key}-option-${j}-default`}
                    labelText="Checked"
                    checked={defaultChoices.includes(o.value)}
                    onChange={(_e, { checked }) =>
                      update({
                        default: checked ? [...defaultChoices, o.value] : defaultChoices.filter((v) => v !== o.value),
                      })
                    }
                  />
                ) : null}
                <span className="trellis-fe__option-actions">
                  <IconButton
                    kind="ghost"
                    size="sm"
                    label={`Move option ${j + 1} up`}
                    disabled={j === 0}
                    onClick={() => dispatch({ type: "moveOption", index, from: j, to: j - 1 })}
                  >
                    <ArrowUp />
                  </IconButton>
                  <IconButton
                    kind="ghost"
                    size="sm"
                    label={`Move option ${j + 1} down`}
                    disabled={j === options.length - 1}
                    onClick={() => dispatch({ type: "moveOption", index, from: j, to: j + 1 })}
                  >
                    <ArrowDown />
                  </IconButton>
                  <IconButton
                    kind="ghost"
                    size="sm"
                    label={`Remove option ${j + 1}`}
                    onClick={() => dispatch({ type: "removeOption", index, option: j })}
                  >
                    <TrashCan />
                  </IconButton>
                </span>
              </li>
            ))}
          </ol>
          <Button kind="tertiary" size="sm" renderIcon={Add} onClick={() => dispatch({ type: "addOption", index })}>
            Add an option
          </Button>
        </fieldset>
      ) : null}
      {RULES.some((r) => has(`validation.${r.rule}`)) || has("validation.pattern") ? (
        <fieldset className="trellis-fe__rules">
          <legend className="cds--label">Validation</legend>
          <div className="trellis-grid-2">
            {RULES.filter((r) => has(`validation.${r.rule}`)).map((r) => (
              <NumberInput
                key={r.rule}
                id={`field-${key}-${r.rule}`}
                label={r.label}
                allowEmpty
                hideSteppers
                value={field.validation[r.rule] ?? ""}
                min={r.integer ? 0 : undefined}
                onChange={(_e, { value }) =>
                  dispatch({ type: "setValidation", index, rule: r.rule, value: numberOrNull(value) })
                }
                {...err(`validation/${r.rule}`)}
              />
            ))}
          </div>
          {has("validation.pattern") ? (
            <TextInput
              id={`field-${key}-pattern`}
              labelText="Pattern (regular expression the whole value must match)"
              className="trellis-code"
              value={field.validation.pattern ?? ""}
              onChange={(e) =>
                dispatch({ type: "setValidation", index, rule: "pattern", value: e.target.value || null })
              }
              {...err("validation/pattern")}
            />
          ) : null}
        </fieldset>
      ) : null}
    </fieldset>
  );
}
