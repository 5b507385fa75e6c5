import { DismissibleTag, TextInput } from "@carbon/react";
import { useId, useState } from "react";
import { useTagSuggestions } from "../../api/queries";
import { useDebounced } from "../../lib/useDebounced";

/** Add a tag to a list unless it is there already (tags compare without case). */
export function addTag(tags: readonly string[], tag: string): string[] {
  const clean = tag.trim();
  if (!clean || tags.some((t) => t.toLowerCase() === clean.toLowerCase())) return [...tags];
  return [...tags, clean];
}

/**
 * Tags as removable chips, plus a text input that adds one on Enter or comma, suggesting
 * existing tags as the user types (free entry is allowed).
 */
export function TagInput({
  id,
  labelText,
  value,
  onChange,
  invalid,
  invalidText,
  helperText = "Press Enter or comma to add a tag",
  suggest = true,
  hideLabel = false,
  placeholder,
}: {
  id: string;
  labelText: string;
  value: readonly string[];
  onChange: (tags: string[]) => void;
  invalid?: boolean;
  invalidText?: string;
  helperText?: string;
  suggest?: boolean;
  hideLabel?: boolean;
  placeholder?: string;
}) {
  const [text, setText] = useState("");
  const q = useDebounced(text.trim(), 250);
  const suggestions = useTagSuggestions(q, suggest);
  const listId = useId();

  const commit = (raw: string) => {
    let next = [...value];
    for (const part of raw.split(",")) next = addTag(next, part);
    if (next.length !== value.length) onChange(next);
    setText("");
  };

  return (
    <div className="trellis-taginput">
      <TextInput
        id={id}
        labelText={labelText}
        hideLabel={hideLabel}
        placeholder={placeholder}
        helperText={helperText || undefined}
        value={text}
        invalid={invalid}
        invalidText={invalidText}
        list={suggest ? listId : undefined}
        autoComplete="off"
        onChange={(e) => {
          const v = e.target.value;
          if (v.includes(",")) commit(v);
          else setText(v);
        }}
        onKeyDown={(e) => {
          if (e.key === "Enter") {
            e.preventDefault();
            commit(text);
          } else if (e.key === "Backspace" && text === "" && value.length > 0) {
            onChange(value.slice(0, -1));
          }
        }}
        onBlur={() => {
          if (text.trim()) commit(text);
        }}
      />
      {suggest ? (
        <datalist id={listId}>
          {(suggestions.data ?? [])
            .filter((t) => !value.some((v) => v.toLowerCase() === t.name.toLowerCase()))
            .map((t) => (
              <option key={t.id} value={t.name} />
            ))}
        </datalist>
      ) : null}
      {value.length > 0 ? (
        <div className="trellis-chips" aria-label={`${labelText}: selected`} role="group">
          {value.map((tag) => (
            <DismissibleTag
              key={tag}
              type="blue"
              size="md"
              text={tag}
              dismissTooltipLabel={`Remove ${tag}`}
              onClose={() => onChange(value.filter((t) => t !== tag))}
            />
          ))}
        </div>
      ) : null}
    </div>
  );
}
