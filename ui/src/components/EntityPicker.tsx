/**
 * One searchable picker for anything a step, filter or form action refers to by id: emails,
 * segments, forms, landing pages, assets, campaigns, users and companies. It searches the list
 * endpoint's `q` as the user types, shows the name (and a preview line: the email's subject, the
 * segment's size, ...), names the chosen entity even when the current search does not list it,
 * and offers "New ..." that opens the editor in a new tab and selects what gets created there.
 */
import { Add } from "@carbon/icons-react";
import { Button, ComboBox } from "@carbon/react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { api, ok } from "../api/client";
import { useDebounced } from "../lib/useDebounced";

export type EntityKind = "email" | "segment" | "form" | "page" | "asset" | "campaign" | "user" | "company" | "project";

export interface EntityOption {
  id: number;
  name: string;
  /** A second line: the email's subject, the segment's size, the user's address. */
  preview?: string;
}

interface EntityKindInfo {
  singular: string;
  /** The editor that creates one; it announces the new entity back (see announceCreated). */
  createPath?: string;
}

export const ENTITY_KINDS: Record<EntityKind, EntityKindInfo> = {
  email: { singular: "email", createPath: "/emails/new" },
  segment: { singular: "segment", createPath: "/segments/new" },
  form: { singular: "form", createPath: "/forms/new" },
  page: { singular: "landing page", createPath: "/landing-pages/new" },
  asset: { singular: "asset" },
  campaign: { singular: "campaign", createPath: "/campaigns/new" },
  user: { singular: "user" },
  company: { singular: "company" },
  project: { singular: "project" },
};

const PAGE = 20;
const count = (n: number, word: string) => `${n.toLocaleString()} ${word}${n === 1 ? "" : "s"}`;

/** The first PAGE matches of `q` (all, by name, when q is empty). */
export async function searchEntities(kind: EntityKind, q: string): Promise<EntityOption[]> {
  const query = { "page[size]": PAGE, ...(q ? { q } : { sort: "name" }) };
  switch (kind) {
    case "email":
      return ok(await api.GET("/api/v2/emails", { params: { query } })).data.map((e) => ({
        id: e.id,
        name: e.name,
        preview: `Subject: ${e.subject}`,
      }));
    case "segment":
      return ok(await api.GET("/api/v2/segments", { params: { query } })).data.map((s) => ({
        id: s.id,
        name: s.name,
        preview: count(s.member_count, "contact"),
      }));
    case "form":
      return ok(await api.GET("/api/v2/forms", { params: { query } })).data.map((f) => ({
        id: f.id,
        name: f.name,
        preview: count(f.submission_count, "submission"),
      }));
    case "page":
      return ok(await api.GET("/api/v2/pages", { params: { query } })).data.map((p) => ({
        id: p.id,
        name: p.name,
        preview: p.title,
      }));
    case "asset":
      return ok(await api.GET("/api/v2/assets", { params: { query } })).data.map((a) => ({
        id: a.id,
        name: a.name,
        preview: a.filename,
      }));
    case "campaign":
      return ok(await api.GET("/api/v2/campaigns", { params: { query } })).data.map((c) => ({
        id: c.id,
        name: c.name,
        preview: c.is_published ? "Published" : "Draft",
      }));
    case "user":
      return ok(
        await api.GET("/api/v2/users", {
          params: { query: { "page[size]": PAGE, ...(q ? { q } : { sort: "email" }) } },
        }),
      ).data.map((u) => ({ id: u.id, name: u.name || u.email, preview: u.email }));
    case "company":
      return ok(await api.GET("/api/v2/companies", { params: { query } })).data.map((c) => ({
        id: c.id,
        name: c.name,
        preview: c.domain ?? undefined,
      }));
    case "project":
      return ok(await api.GET("/api/v2/projects", { params: { query } })).data.map((p) => ({
        id: p.id,
        name: p.name,
        preview: p.description || undefined,
      }));
  }
}

/** One entity by id, for the name of a chosen value that the current search does not list. */
export async function fetchEntity(kind: EntityKind, id: number): Promise<EntityOption> {
  switch (kind) {
    case "email": {
      const e = ok(await api.GET("/api/v2/emails/{email_id}", { params: { path: { email_id: id } } }));
      return { id, name: e.name, preview: `Subject: ${e.subject}` };
    }
    case "segment": {
      const s = ok(await api.GET("/api/v2/segments/{segment_id}", { params: { path: { segment_id: id } } }));
      return { id, name: s.name, preview: count(s.member_count, "contact") };
    }
    case "form": {
      const f = ok(await api.GET("/api/v2/forms/{form_id}", { params: { path: { form_id: id } } }));
      return { id, name: f.name };
    }
    case "page": {
      const p = ok(await api.GET("/api/v2/pages/{page_id}", { params: { path: { page_id: id } } }));
      return { id, name: p.name, preview: p.title };
    }
    case "asset": {
      const a = ok(await api.GET("/api/v2/assets/{asset_id}", { params: { path: { asset_id: id } } }));
      return { id, name: a.name, preview: a.filename };
    }
    case "campaign": {
      const c = ok(await api.GET("/api/v2/campaigns/{campaign_id}", { params: { path: { campaign_id: id } } }));
      return { id, name: c.name };
    }
    case "user": {
      const u = ok(await api.GET("/api/v2/users/{user_id}", { params: { path: { user_id: id } } }));
      return { id, name: u.name || u.email, preview: u.email };
    }
    case "company": {
      const c = ok(await api.GET("/api/v2/companies/{company_id}", { params: { path: { company_id: id } } }));
      return { id, name: c.name };
    }
    case "project": {
      const p = ok(await api.GET("/api/v2/projects/{project_id}", { params: { path: { project_id: id } } }));
      return { id, name: p.name };
    }
  }
}

export const entityKey = (kind: EntityKind, id: number) => ["entity-name", kind, id] as const;

/** The chosen entity's name (and preview): a 404 (deleted, or not visible) names it "#id (not found)". */
export function useEntityName(kind: EntityKind | null, id: number | null | undefined) {
  return useQuery({
    queryKey: entityKey(kind ?? "email", id ?? 0),
    queryFn: async () => {
      try {
        return await fetchEntity(kind!, id!);
      } catch {
        return { id: id!, name: `#${id} (not found)` } satisfies EntityOption;
      }
    },
    enabled: kind !== null && typeof id === "number" && id > 0,
    staleTime: 60_000,
  });
}

/** An entity's name where a page would otherwise show "Email 12" (the id while it loads). */
export function EntityName({ kind, id }: { kind: EntityKind; id: number }) {
  const entity = useEntityName(kind, id);
  return <>{entity.data?.name ?? `${ENTITY_KINDS[kind].singular} ${id}`}</>;
}

export function useEntitySearch(kind: EntityKind | null, search: string) {
  const q = useDebounced(search.trim(), 250);
  return useQuery({
    queryKey: ["entity-search", kind, q],
    queryFn: () => searchEntities(kind!, q),
    enabled: kind !== null,
    staleTime: 15_000,
    // The list stays while the next search runs: the chosen item never blinks out of it.
    placeholderData: keepPreviousData,
  });
}

// -- "create new" round trip --------------------------------------------------------------------

const CHANNEL = "trellis-entity-created";
const PICK_PARAM = "pick";

interface Created {
  token: string;
  kind: EntityKind;
  id: number;
  name: string;
}

/** Open the editor of a new entity in a new tab; resolves with what gets created there. */
function openCreator(kind: EntityKind, onCreated: (created: EntityOption) => void): () => void {
  const path = ENTITY_KINDS[kind].createPath!;
  const token = Math.random().toString(36).slice(2);
  const channel = new BroadcastChannel(CHANNEL);
  channel.onmessage = (event: MessageEvent<Created>) => {
    if (event.data.token !== token || event.data.kind !== kind) return;
    onCreated({ id: event.data.id, name: event.data.name });
    channel.close();
  };
  window.open(`${path}?${PICK_PARAM}=${token}`, "_blank");
  return () => channel.close();
}

/**
 * Called by an editor after it created an entity: when a picker opened it ("?pick=..."), tell
 * that picker, which selects it. Returns true when it did (the editor may then say so).
 */
export function announceCreated(kind: EntityKind, id: number, name: string): boolean {
  const token = new URLSearchParams(window.location.search).get(PICK_PARAM);
  if (!token || typeof BroadcastChannel === "undefined") return false;
  const channel = new BroadcastChannel(CHANNEL);
  channel.postMessage({ token, kind, id, name } satisfies Created);
  channel.close();
  return true;
}

// -- the component ------------------------------------------------------------------------------

export interface EntityPickerProps {
  id: string;
  kind: EntityKind;
  label: string;
  value: number | null | undefined;
  onChange: (id: number | null, option: EntityOption | null) => void;
  helper?: string;
  invalidText?: string;
  /** Offer "New ..." (default: when the kind has an editor). */
  allowCreate?: boolean;
  disabled?: boolean;
  size?: "sm" | "md" | "lg";
}

export function EntityPicker({
  id,
  kind,
  label,
  value,
  onChange,
  helper,
  invalidText,
  allowCreate = true,
  disabled,
  size,
}: EntityPickerProps) {
  const [search, setSearch] = useState("");
  const results = useEntitySearch(kind, search);
  const chosen = useEntityName(kind, value);
  const [stopListening, setStopListening] = useState<(() => void) | null>(null);
  useEffect(() => () => stopListening?.(), [stopListening]);

  // What was just picked names the value until its own request answers.
  const [picked, setPicked] = useState<EntityOption | null>(null);
  const items = useMemo(() => {
    const found = results.data ?? [];
    const current =
      typeof value === "number" ? (chosen.data ?? (picked?.id === value ? picked : undefined)) : undefined;
    return current && !found.some((o) => o.id === current.id) ? [current, ...found] : found;
  }, [results.data, chosen.data, value, picked]);
  const selected = typeof value === "number" ? (items.find((o) => o.id === value) ?? null) : null;
  const info = ENTITY_KINDS[kind];
  const canCreate = allowCreate && !!info.createPath && !disabled;

  return (
    <div className="trellis-entity-picker">
      <ComboBox<EntityOption>
        id={id}
        titleText={label}
        helperText={helper ?? selected?.preview}
        invalid={!!invalidText}
        invalidText={invalidText}
        disabled={disabled}
        size={size}
        items={items}
        itemToString={(o) => (o ? o.name : "")}
        itemToElement={(o: EntityOption) => (
          <span className="trellis-entity-picker__item">
            <span>{o.name}</span>
            {o.preview ? <span className="trellis-entity-picker__preview">{o.preview}</span> : null}
          </span>
        )}
        selectedItem={selected}
        onChange={({ selectedItem }) => {
          setPicked(selectedItem ?? null);
          onChange(selectedItem ? selectedItem.id : null, selectedItem ?? null);
        }}
        onInputChange={(text) => setSearch(text ?? "")}
        placeholder={`Search ${info.singular}s by name`}
      />
      {canCreate ? (
        <Button
          kind="ghost"
          size="sm"
          renderIcon={Add}
          onClick={() => {
            const stop = openCreator(kind, (created) => {
              setPicked(created);
              onChange(created.id, created);
            });
            setStopListening(() => stop);
          }}
        >
          New {info.singular}
        </Button>
      ) : null}
    </div>
  );
}
