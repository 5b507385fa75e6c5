/**
 * Pickers for the things a step refers to: segments, users, stages, companies, campaigns, tags,
 * contact fields and steps of this campaign. Each loads its options from the API and keeps the
 * stored value (ids, aliases, tag names, step keys) as the schema wants it.
 */
import { ComboBox, FilterableMultiSelect, InlineLoading } from "@carbon/react";
import { useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { api, ok } from "../../api/client";
import { useFields, useOwners, useStages, useTagSuggestions } from "../../api/queries";
import { useDebounced } from "../../lib/useDebounced";
import type { PickerKind } from "../lib/schemaForm";

export interface Option {
  id: string | number;
  label: string;
}

export function useSegmentsList(enabled = true) {
  return useQuery({
    queryKey: ["segments", "all"],
    queryFn: async () =>
      ok(await api.GET("/api/v2/segments", { params: { query: { "page[size]": 500, sort: "name" } } })).data,
    staleTime: 60_000,
    enabled,
  });
}

export function useCampaignsList(enabled = true) {
  return useQuery({
    queryKey: ["campaigns", "all"],
    queryFn: async () =>
      ok(await api.GET("/api/v2/campaigns", { params: { query: { "page[size]": 500, sort: "name" } } })).data,
    staleTime: 30_000,
    enabled,
  });
}

export function useProjectsList(enabled = true) {
  return useQuery({
    queryKey: ["projects", "all"],
    queryFn: async () =>
      ok(await api.GET("/api/v2/projects", { params: { query: { "page[size]": 500, sort: "name" } } })).data,
    staleTime: 60_000,
    enabled,
  });
}

function useCompanies(q: string, enabled: boolean) {
  return useQuery({
    queryKey: ["companies", "pick", q],
    queryFn: async () =>
      ok(await api.GET("/api/v2/companies", { params: { query: { "page[size]": 50, ...(q ? { q } : {}) } } })).data,
    staleTime: 30_000,
    enabled,
  });
}

export interface StepOption {
  key: string;
  label: string;
}

/** The options of a picker, loaded only for the kinds the form shows. */
function useOptions(
  kind: PickerKind,
  search: string,
  steps: readonly StepOption[],
): { options: Option[]; loading: boolean } {
  const debounced = useDebounced(search, 250);
  const segments = useSegmentsList(kind === "segment");
  const owners = useOwners(kind === "user");
  const stages = useStages(kind === "stage");
  const campaigns = useCampaignsList(kind === "campaign");
  const fields = useFields("contact", kind === "field");
  const tags = useTagSuggestions(debounced, kind === "tag");
  const companies = useCompanies(debounced, kind === "company");
  return useMemo(() => {
    switch (kind) {
      case "segment":
        return {
          options: (segments.data ?? []).map((s) => ({ id: s.id, label: s.name })),
          loading: segments.isPending,
        };
      case "user":
        return {
          options: (owners.data ?? []).map((u) => ({ id: u.id, label: u.name ? `${u.name} (${u.email})` : u.email })),
          loading: owners.isPending && owners.fetchStatus !== "idle",
        };
      case "stage":
        return { options: (stages.data ?? []).map((s) => ({ id: s.id, label: s.name })), loading: stages.isPending };
      case "campaign":
        return {
          options: [
            { id: "this", label: "This campaign" },
            ...(campaigns.data ?? []).map((c) => ({ id: c.id, label: c.name })),
          ],
          loading: campaigns.isPending,
        };
      case "field":
        return {
          options: (fields.data ?? []).map((f) => ({ id: f.alias, label: `${f.label} (${f.alias})` })),
          loading: fields.isPending,
        };
      case "tag":
        return { options: (tags.data ?? []).map((t) => ({ id: t.name, label: t.name })), loading: tags.isPending };
      case "company":
        return {
          options: (companies.data ?? []).map((c) => ({ id: c.id, label: c.name })),
          loading: companies.isPending,
        };
      case "step":
        return { options: steps.map((s) => ({ id: s.key, label: s.label })), loading: false };
    }
  }, [
    kind,
    segments.data,
    segments.isPending,
    owners.data,
    owners.isPending,
    owners.fetchStatus,
    stages.data,
    stages.isPending,
    campaigns.data,
    campaigns.isPending,
    fields.data,
    fields.isPending,
    tags.data,
    tags.isPending,
    companies.data,
    companies.isPending,
    steps,
  ]);
}

interface PickerProps {
  id: string;
  kind: PickerKind;
  label: string;
  helper?: string;
  invalidText?: string;
  steps: readonly StepOption[];
  /** Some campaign lists accept "this" besides ids. */
  allowThis?: boolean;
}

/** A picker of one value (an id, an alias or a step key); `nullable` allows clearing it. */
export function SinglePicker({
  id,
  kind,
  label,
  helper,
  invalidText,
  steps,
  value,
  onChange,
}: PickerProps & { value: unknown; onChange: (value: string | number | null) => void }) {
  const [search, setSearch] = useState("");
  const { options, loading } = useOptions(kind, search, steps);
  const selected =
    options.find((o) => o.id === value) ??
    (value !== null && value !== undefined && value !== ""
      ? { id: value as string | number, label: `#${String(value)}` }
      : null);
  return (
    <div>
      <ComboBox<Option>
        id={id}
        titleText={label}
        helperText={helper}
        invalid={!!invalidText}
        invalidText={invalidText}
        items={options}
        itemToString={(o) => (o ? o.label : "")}
        selectedItem={selected}
        onChange={({ selectedItem }) => onChange(selectedItem ? selectedItem.id : null)}
        onInputChange={(text) => setSearch(text ?? "")}
        placeholder={loading ? "Loading…" : "Choose"}
      />
      {loading ? <InlineLoading description="Loading choices" /> : null}
    </div>
  );
}

/** A picker of several values (a list of ids, tag names or aliases). */
export function MultiPicker({
  id,
  kind,
  label,
  helper,
  invalidText,
  steps,
  value,
  onChange,
  allowThis,
}: PickerProps & { value: unknown; onChange: (value: (string | number)[]) => void }) {
  const [search, setSearch] = useState("");
  const { options: loaded } = useOptions(kind, search, steps);
  const values = Array.isArray(value) ? (value as (string | number)[]) : [];
  const options = useMemo(() => {
    const base = kind === "campaign" && !allowThis ? loaded.filter((o) => o.id !== "this") : loaded;
    // Keep chosen values that the current options do not list (a tag being typed, a search).
    const extra = values
      .filter((v) => !base.some((o) => o.id === v))
      .map((v) => ({ id: v, label: typeof v === "number" ? `#${v}` : v }));
    const typed =
      kind === "tag" && search.trim() && !base.some((o) => o.id === search.trim()) && !values.includes(search.trim())
        ? [{ id: search.trim(), label: `New tag “${search.trim()}”` }]
        : [];
    return [...typed, ...extra, ...base];
  }, [loaded, values, kind, search, allowThis]);
  const selected = options.filter((o) => values.includes(o.id));
  return (
    <FilterableMultiSelect<Option>
      id={id}
      titleText={label}
      helperText={helper}
      invalid={!!invalidText}
      invalidText={invalidText}
      items={options}
      itemToString={(o) => (o ? o.label : "")}
      selectedItems={selected}
      initialSelectedItems={selected}
      onChange={({ selectedItems }) => onChange((selectedItems ?? []).map((o) => o.id))}
      onInputValueChange={(changes) => setSearch(changes.inputValue ?? "")}
      placeholder="Search"
      selectionFeedback="top-after-reopen"
    />
  );
}
