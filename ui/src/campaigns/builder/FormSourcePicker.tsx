/** A searchable picker of one form, for a campaign's form source. */
import { ComboBox } from "@carbon/react";
import { useState } from "react";
import { useFormsList } from "../../forms/api";
import { useDebounced } from "../../lib/useDebounced";

interface FormOption {
  id: number;
  label: string;
}

export function FormSourcePicker({
  id,
  value,
  exclude,
  invalidText,
  onChange,
}: {
  id: string;
  value: number;
  /** Forms already used by another source of the campaign. */
  exclude: ReadonlySet<number>;
  invalidText?: string;
  onChange: (formId: number) => void;
}) {
  const [search, setSearch] = useState("");
  const q = useDebounced(search.trim(), 250);
  const forms = useFormsList(true, q);
  const options: FormOption[] = (forms.data ?? [])
    .filter((f) => f.id === value || !exclude.has(f.id))
    .map((f) => ({ id: f.id, label: f.is_published ? f.name : `${f.name} (unpublished)` }));
  const selected = options.find((o) => o.id === value) ?? { id: value, label: `Form #${value}` };
  if (!options.some((o) => o.id === value)) options.unshift(selected);
  return (
    <ComboBox<FormOption>
      id={id}
      titleText="Form"
      helperText="Whoever submits it enters the campaign at once."
      items={options}
      itemToString={(o) => (o ? o.label : "")}
      selectedItem={selected}
      onChange={({ selectedItem }) => {
        if (selectedItem) onChange(selectedItem.id);
      }}
      onInputChange={(text) => setSearch(text === selected.label ? "" : (text ?? ""))}
      placeholder={forms.isPending ? "Loading forms…" : "Search forms"}
      invalid={!!invalidText}
      invalidText={invalidText}
    />
  );
}
