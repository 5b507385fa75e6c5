/**
 * Pickers for the things a step refers to: segments, users, stages, companies, campaigns, tags,
 * contact fields and steps of this campaign. Each loads its options from the API and keeps the
 * stored value (ids, aliases, tag names, step keys) as the schema wants it.
 */
import { ComboBox, FilterableMultiSelect, InlineLoading } from "@carbon/react";
import { useQueries, useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { api, ok } from "../../api/client";
import { useFields, useOwners, useStages, useTagSuggestions } from "../../api/queries";
import { useDebounced } from "../../lib/useDebounced";
import { EntityPicker, entityKey, fetchEntity, useEntitySearch, type EntityKind } from "../../components/EntityPicker";
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

/** The kinds the shared EntityPicker searches server-side (by `q`) and names by id. */
const ENTITY_PICKS: Partial<Record<PickerKind, EntityKind>> = {
  email: "email",
  segment: "segment",
  form: "form",
  page: "page",
  asset: "asset",
  user: "user",
  company: "company",
};

/** Names of chosen ids the current search does not list (one cached request per id). */
function useEntityLabels(kind: EntityKind | null, ids: readonly (string | number)[]): Map<number, string> {
  const numeric = kind ? ids.filter((v): v is number => typeof v === "number") : [];
  const results = useQueries({
    queries: numeric.map((id) => ({
      queryKey: entityKey(kind ?? "email", id),
      queryFn: async () => {
        try {
          return await fetchEntity(kind!, id);
        } catch {
          return { id, name: `#${id} (not found)` };
        }
      },
      staleTime: 60_000,
    })),
  });
  const labels = new Map<number, string>();
  for (const r of results) if (r.data) labels.set(r.data.id, r.data.name);
  return labels;
}

/** The links of an email, as a click on them is recorded (with its UTM tags), for "Clicks email link". */
function useEmailLinks(emailId: unknown) {
  return useQuery({
    queryKey: ["emails", "links", emailId],
    queryFn: async () =>
      ok(
        await api.POST("/api/v2/emails/{email_id}/preview", {
          params: { path: { email_id: emailId as number } },
          body: {},
        }),
      ).links,
    enabled: typeof emailId === "number",
    staleTime: 60_000,
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
  emailId?: unknown,
): { options: Option[]; loading: boolean } {
  const debounced = useDebounced(search, 250);
  const entityKind = ENTITY_PICKS[kind] ?? null;
  const searched = useEntitySearch(entityKind, search);
  const links = useEmailLinks(kind === "email_link" ? emailId : undefined);
  const segments = useSegmentsList(false);
  const owners = useOwners(false);
  const stages = useStages(kind === "stage");
  const campaigns = useCampaignsList(kind === "campaign");
  const fields = useFields("contact", kind === "field");
  const tags = useTagSuggestions(debounced, kind === "tag");
  const companies = useCompanies(debounced, false);
  return useMemo(() => {
    if (entityKind) {
      return {
        options: (searched.data ?? []).map((o) => ({ id: o.id, label: o.name })),
        loading: searched.isPending,
      };
    }
    switch (kind) {
      case "email_link":
        return {
          options: [...new Set(links.data ?? [])].map((url) => ({ id: url, label: url })),
          loading: links.isPending && links.fetchStatus !== "idle",
        };
      case "email":
      case "form":
      case "page":
      case "asset":
        return { options: [], loading: false };
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
    entityKind,
    searched.data,
    searched.isPending,
    links.data,
    links.isPending,
    links.fetchStatus,
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
  /** For "email_link": the email whose links are offered. */
  emailId?: unknown;
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
  const entityKind = ENTITY_PICKS[kind];
  if (entityKind) {
    return (
      <EntityPicker
        id={id}
        kind={entityKind}
        label={label}
        helper={helper}
        invalidText={invalidText}
        value={typeof value === "number" ? value : null}
        onChange={(picked) => onChange(picked)}
      />
    );
  }
  return (
    <ListPicker
      id={id}
      kind={kind}
      label={label}
      helper={helper}
      invalidText={invalidText}
      steps={steps}
      value={value}
      onChange={onChange}
    />
  );
}

function ListPicker({
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
    ((typeof value === "number" || typeof value === "string") && value !== ""
      ? { id: value, label: `#${value}` }
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
  emailId,
}: PickerProps & { value: unknown; onChange: (value: (string | number)[]) => void }) {
  const [search, setSearch] = useState("");
  const { options: loaded } = useOptions(kind, search, steps, emailId);
  const values = useMemo(() => (Array.isArray(value) ? (value as (string | number)[]) : []), [value]);
  const names = useEntityLabels(ENTITY_PICKS[kind] ?? null, values);
  const options = useMemo(() => {
    const base = kind === "campaign" && !allowThis ? loaded.filter((o) => o.id !== "this") : loaded;
    // Keep chosen values that the current options do not list (a tag being typed, a search).
    const extra = values
      .filter((v) => !base.some((o) => o.id === v))
      .map((v) => ({ id: v, label: typeof v === "number" ? (names.get(v) ?? `#${v}`) : v }));
    const typed =
      (kind === "tag" || kind === "email_link") &&
      search.trim() &&
      !base.some((o) => o.id === search.trim()) &&
      !values.includes(search.trim())
        ? [
            {
              id: search.trim(),
              label: kind === "tag" ? `New tag “${search.trim()}”` : `Links matching “${search.trim()}”`,
            },
          ]
        : [];
    return [...typed, ...extra, ...base];
  }, [loaded, values, kind, search, allowThis, names]);
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
