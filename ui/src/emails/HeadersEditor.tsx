import { Button, IconButton, TextInput } from "@carbon/react";
import { Add, TrashCan } from "@carbon/icons-react";
import { newRow, rowErrors, type HeaderRow } from "./headers";

/** Custom headers as rows of name and value; errors from the server win over local checks. */
export function HeadersEditor({
  rows,
  onChange,
  serverErrors,
  disabled,
}: {
  rows: HeaderRow[];
  onChange: (rows: HeaderRow[]) => void;
  serverErrors: ReadonlyMap<number, string>;
  disabled?: boolean;
}) {
  const local = rowErrors(rows);
  const update = (key: number, patch: Partial<HeaderRow>) =>
    onChange(rows.map((r) => (r.key === key ? { ...r, ...patch } : r)));
  return (
    <fieldset className="trellis-fieldset">
      <legend className="cds--label">Custom headers</legend>
      {rows.length === 0 ? (
        <p className="trellis-muted">None. Trellis writes From, To, Subject, Message-ID and List-Unsubscribe itself.</p>
      ) : null}
      {rows.map((row, i) => {
        const error = serverErrors.get(row.key) ?? local.get(row.key);
        return (
          <div key={row.key} className="trellis-option-row">
            <TextInput
              id={`email-header-name-${row.key}`}
              labelText={`Header ${i + 1} name`}
              hideLabel={i > 0}
              placeholder="X-Campaign"
              size="sm"
              value={row.name}
              disabled={disabled}
              onChange={(e) => update(row.key, { name: e.target.value })}
              invalid={Boolean(error)}
              invalidText={error}
            />
            <TextInput
              id={`email-header-value-${row.key}`}
              labelText={`Header ${i + 1} value`}
              hideLabel={i > 0}
              placeholder="spring"
              size="sm"
              value={row.value}
              disabled={disabled}
              onChange={(e) => update(row.key, { value: e.target.value })}
            />
            <IconButton
              kind="ghost"
              size="sm"
              label={`Remove header ${i + 1}`}
              disabled={disabled}
              onClick={() => onChange(rows.filter((r) => r.key !== row.key))}
            >
              <TrashCan />
            </IconButton>
          </div>
        );
      })}
      <div>
        <Button
          kind="ghost"
          size="sm"
          renderIcon={Add}
          disabled={disabled || rows.length >= 30}
          onClick={() => onChange([...rows, newRow()])}
        >
          Add a header
        </Button>
      </div>
    </fieldset>
  );
}
