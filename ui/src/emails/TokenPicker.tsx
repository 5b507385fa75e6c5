import { Button, ComboBox, TextInput } from "@carbon/react";
import { Add } from "@carbon/icons-react";
import { useMemo, useState } from "react";
import { useFields } from "../api/queries";
import { tokenChoices, withFallback, type TokenChoice } from "./tokens";

/**
 * Pick a token (a contact field with the text used when it is empty, an owner field, a link or
 * the date) and insert it where the user last was: the body, the subject, the preheader or the
 * plain text.
 */
export function TokenPicker({
  targetLabel,
  onInsert,
  disabled,
}: {
  targetLabel: string;
  onInsert: (choice: TokenChoice) => void;
  disabled?: boolean;
}) {
  const fields = useFields("contact");
  const choices = useMemo(() => tokenChoices(fields.data ?? []), [fields.data]);
  const [picked, setPicked] = useState<TokenChoice | null>(null);
  const [fallback, setFallback] = useState("");
  const isField = picked !== null && /^\{(contactfield|ownerfield)=/.test(picked.token);
  const finalToken = picked ? (isField ? withFallback(picked.token, fallback) : picked.token) : "";
  return (
    <div className="trellis-token-picker" role="group" aria-label="Insert a personalisation token">
      <ComboBox<TokenChoice>
        id="email-token"
        titleText="Personalisation token"
        placeholder={fields.isPending ? "Loading fields…" : "Contact field, owner, link, date"}
        items={choices}
        itemToString={(c) => (c ? `${c.group}: ${c.label}` : "")}
        selectedItem={picked}
        onChange={({ selectedItem }) => setPicked(selectedItem ?? null)}
        shouldFilterItem={({ item, inputValue }) =>
          !inputValue || `${item.group} ${item.label} ${item.token}`.toLowerCase().includes(inputValue.toLowerCase())
        }
        disabled={disabled}
        size="sm"
      />
      {isField ? (
        <TextInput
          id="email-token-fallback"
          size="sm"
          labelText="When empty"
          placeholder="e.g. there"
          value={fallback}
          onChange={(e) => setFallback(e.target.value)}
          disabled={disabled}
        />
      ) : null}
      <Button
        size="sm"
        kind="tertiary"
        renderIcon={Add}
        disabled={disabled || !picked}
        onClick={() => picked && onInsert({ ...picked, token: finalToken })}
      >
        Insert into {targetLabel}
      </Button>
      {picked ? (
        <code className="trellis-muted" data-testid="token-preview">
          {finalToken}
        </code>
      ) : null}
    </div>
  );
}
