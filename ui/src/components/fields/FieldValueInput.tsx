import { Checkbox, FormGroup, Select, SelectItem, TextArea, TextInput } from "@carbon/react";
import { useMemo } from "react";
import { countries } from "../../lib/countries";
import { fieldOptions, fromDateTimeLocal, inputKindOf, toDateTimeLocal } from "../../lib/fieldTypes";
import { timeZones } from "../../lib/timezones";
import { valueAsText } from "../../lib/text";

export interface EditableField {
  alias: string;
  label: string;
  type: string;
  required?: boolean;
  options?: readonly Record<string, string>[];
}

interface Props {
  id: string;
  field: EditableField;
  value: unknown;
  onChange: (value: unknown) => void;
  invalid?: boolean;
  invalidText?: string;
  hideLabel?: boolean;
  labelText?: string;
  autoFocus?: boolean;
  disabled?: boolean;
}

/** One input for a value of a field, chosen by the field's type. */
export function FieldValueInput({
  id,
  field,
  value,
  onChange,
  invalid = false,
  invalidText,
  hideLabel,
  labelText,
  autoFocus,
  disabled,
}: Props) {
  const kind = inputKindOf(field.type);
  const label = labelText ?? `${field.label}${field.required ? " (required)" : ""}`;
  const common = { id, labelText: label, hideLabel, invalid, invalidText, disabled, autoFocus };
  const options = useMemo(() => fieldOptions(field.options), [field.options]);

  switch (kind) {
    case "textarea":
      return <TextArea {...common} rows={3} value={valueAsText(value)} onChange={(e) => onChange(e.target.value)} />;
    case "number":
      return (
        <TextInput
          {...common}
          type="number"
          inputMode="decimal"
          value={valueAsText(value)}
          onChange={(e) => {
            const text = e.target.value;
            const n = Number(text);
            onChange(text === "" ? "" : Number.isFinite(n) ? n : text);
          }}
        />
      );
    case "boolean":
      return (
        <Select
          {...common}
          value={value === true ? "true" : value === false ? "false" : ""}
          onChange={(e) => onChange(e.target.value === "" ? null : e.target.value === "true")}
        >
          <SelectItem value="" text="—" />
          <SelectItem value="true" text="Yes" />
          <SelectItem value="false" text="No" />
        </Select>
      );
    case "date":
      return (
        <TextInput
          {...common}
          type="date"
          value={valueAsText(value).slice(0, 10)}
          onChange={(e) => onChange(e.target.value)}
        />
      );
    case "datetime":
      return (
        <TextInput
          {...common}
          type="datetime-local"
          value={toDateTimeLocal(value)}
          onChange={(e) => onChange(fromDateTimeLocal(e.target.value) ?? "")}
        />
      );
    case "select":
      return (
        <Select {...common} value={valueAsText(value)} onChange={(e) => onChange(e.target.value)}>
          <SelectItem value="" text="—" />
          {options.map((o) => (
            <SelectItem key={o.value} value={o.value} text={o.label ?? o.value} />
          ))}
        </Select>
      );
    case "multiselect": {
      const selected = Array.isArray(value) ? value.map(String) : [];
      return (
        <FormGroup
          legendText={hideLabel ? <span className="cds--visually-hidden">{label}</span> : label}
          invalid={invalid}
          message={invalid}
          messageText={invalidText}
          disabled={disabled}
        >
          <div className="trellis-checks">
            {options.map((o) => (
              <Checkbox
                key={o.value}
                id={`${id}-${o.value}`}
                labelText={o.label ?? o.value}
                checked={selected.includes(o.value)}
                disabled={disabled}
                onChange={(_e, { checked }) =>
                  onChange(checked ? [...selected, o.value] : selected.filter((v) => v !== o.value))
                }
              />
            ))}
            {options.length === 0 ? <span className="trellis-muted">This field has no choices.</span> : null}
          </div>
        </FormGroup>
      );
    }
    case "country": {
      const list = countries();
      const current = valueAsText(value).toUpperCase();
      return (
        <Select {...common} value={current} onChange={(e) => onChange(e.target.value)}>
          <SelectItem value="" text="—" />
          {current && !list.some((c) => c.code === current) ? <SelectItem value={current} text={current} /> : null}
          {list.map((c) => (
            <SelectItem key={c.code} value={c.code} text={`${c.name} (${c.code})`} />
          ))}
        </Select>
      );
    }
    case "timezone": {
      const zones = timeZones();
      const current = valueAsText(value);
      return (
        <Select {...common} value={current} onChange={(e) => onChange(e.target.value)}>
          <SelectItem value="" text="—" />
          {current && !zones.includes(current) ? <SelectItem value={current} text={current} /> : null}
          {zones.map((z) => (
            <SelectItem key={z} value={z} text={z} />
          ))}
        </Select>
      );
    }
    default: {
      const type = kind === "email" ? "email" : kind === "url" ? "url" : kind === "tel" ? "tel" : "text";
      return (
        <TextInput
          {...common}
          type={type}
          value={valueAsText(value)}
          onChange={(e) => onChange(e.target.value)}
          helperText={field.type === "locale" && !hideLabel ? "A language tag such as en or pt_BR" : undefined}
        />
      );
    }
  }
}
