/**
 * The form as a visitor sees it on its hosted page: plain labelled inputs in document order.
 * Every text shown comes from the form and is rendered as text (React escapes it).
 */
import type { FormField } from "./types";

function defaultText(value: FormField["default"]): string {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value[0] ?? "";
  return String(value);
}

function defaultList(value: FormField["default"]): string[] {
  if (Array.isArray(value)) return value;
  if (value === null || value === undefined || value === "") return [];
  return [String(value)];
}

function Required({ on }: { on: boolean }) {
  return on ? (
    <span className="trellis-fp__required" aria-hidden>
      *
    </span>
  ) : null;
}

function Help({ id, text }: { id: string; text: string }) {
  return text ? (
    <p id={id} className="trellis-fp__help">
      {text}
    </p>
  ) : null;
}

/** One field; `idPrefix` keeps ids unique when several previews are on a page. */
export function PreviewField({ field, idPrefix }: { field: FormField; idPrefix: string }) {
  const id = `${idPrefix}-${field.name || field.key}`;
  const helpId = `${id}-help`;
  const described = field.help ? { "aria-describedby": helpId } : {};
  const v = field.validation;
  switch (field.type) {
    case "hidden":
      return (
        <input type="hidden" name={field.name} defaultValue={defaultText(field.default)} data-field-type="hidden" />
      );
    case "textarea":
      return (
        <div className="trellis-fp__field" data-field-type={field.type}>
          <label htmlFor={id}>
            {field.label}
            <Required on={field.required} />
          </label>
          <textarea
            id={id}
            name={field.name}
            rows={4}
            required={field.required}
            placeholder={field.placeholder || undefined}
            defaultValue={defaultText(field.default)}
            minLength={v.min_length ?? undefined}
            maxLength={v.max_length ?? undefined}
            {...described}
          />
          <Help id={helpId} text={field.help} />
        </div>
      );
    case "select":
      return (
        <div className="trellis-fp__field" data-field-type={field.type}>
          <label htmlFor={id}>
            {field.label}
            <Required on={field.required} />
          </label>
          <select
            id={id}
            name={field.name}
            required={field.required}
            defaultValue={defaultText(field.default)}
            {...described}
          >
            <option value="">{field.placeholder || "Choose…"}</option>
            {field.options.map((o, i) => (
              <option key={`${i}-${o.value}`} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
          <Help id={helpId} text={field.help} />
        </div>
      );
    case "radio":
    case "checkbox_group": {
      const chosen = defaultList(field.default);
      const inputType = field.type === "radio" ? "radio" : "checkbox";
      return (
        <fieldset className="trellis-fp__field trellis-fp__choices" data-field-type={field.type} {...described}>
          <legend>
            {field.label}
            <Required on={field.required} />
          </legend>
          {field.options.map((o, i) => (
            <label key={`${i}-${o.value}`} className="trellis-fp__choice">
              <input
                type={inputType}
                name={field.name}
                value={o.value}
                defaultChecked={chosen.includes(o.value)}
                required={field.type === "radio" && field.required}
              />
              <span>{o.label}</span>
            </label>
          ))}
          <Help id={helpId} text={field.help} />
        </fieldset>
      );
    }
    case "consent":
      return (
        <div className="trellis-fp__field trellis-fp__consent" data-field-type={field.type}>
          <label className="trellis-fp__choice" htmlFor={id}>
            <input id={id} type="checkbox" name={field.name} value="1" required={field.required} {...described} />
            <span>
              {field.consent_text || field.label}
              <Required on={field.required} />
            </span>
          </label>
          <Help id={helpId} text={field.help} />
        </div>
      );
    default: {
      const type =
        field.type === "email" ? "email" : field.type === "number" ? "number" : field.type === "date" ? "date" : "text";
      return (
        <div className="trellis-fp__field" data-field-type={field.type}>
          <label htmlFor={id}>
            {field.label}
            <Required on={field.required} />
          </label>
          <input
            id={id}
            type={type}
            name={field.name}
            required={field.required}
            placeholder={field.placeholder || undefined}
            defaultValue={defaultText(field.default)}
            minLength={type === "text" ? (v.min_length ?? undefined) : undefined}
            maxLength={type === "text" ? (v.max_length ?? undefined) : undefined}
            min={type === "number" ? (v.min ?? undefined) : undefined}
            max={type === "number" ? (v.max ?? undefined) : undefined}
            pattern={type === "text" && v.pattern ? v.pattern : undefined}
            {...described}
          />
          <Help id={helpId} text={field.help} />
        </div>
      );
    }
  }
}

/** The whole form; submitting it does nothing (it is a preview). */
export function FormPreview({
  fields,
  title,
  idPrefix = "preview",
}: {
  fields: readonly FormField[];
  title?: string;
  idPrefix?: string;
}) {
  const hidden = fields.filter((f) => f.type === "hidden");
  return (
    <div className="trellis-fp" data-testid="form-preview">
      <form aria-label={title ? `Preview of ${title}` : "Form preview"} onSubmit={(e) => e.preventDefault()} noValidate>
        {fields.length === 0 ? <p className="trellis-fp__help">Add a field to see the form.</p> : null}
        {fields.map((f) => (
          // Re-created when its default changes, so the preview shows the new default.
          <PreviewField key={`${f.key}:${JSON.stringify(f.default)}:${f.type}`} field={f} idPrefix={idPrefix} />
        ))}
        <button type="submit" className="trellis-fp__submit">
          Submit
        </button>
      </form>
      {hidden.length ? (
        <p className="trellis-fp__note">Also sent, not shown: {hidden.map((f) => f.name).join(", ")}.</p>
      ) : null}
    </div>
  );
}
