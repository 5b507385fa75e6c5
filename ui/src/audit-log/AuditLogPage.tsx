import { Button, Pagination, Select, SelectItem, TextInput } from "@carbon/react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router-dom";
import { api, ok } from "../api/client";
import { AuditTable } from "../components/AuditTable";
import { EntityPicker, type EntityKind } from "../components/EntityPicker";
import { PageHeader } from "../components/common";

interface Filters {
  entity_type: string;
  entity_id: string;
  actor_type: string;
  actor_id: string;
  since: string;
  until: string;
}

const FILTER_KEYS: (keyof Filters)[] = ["entity_type", "entity_id", "actor_type", "actor_id", "since", "until"];

function readFilters(params: URLSearchParams): Filters {
  const get = (k: string) => params.get(k) ?? "";
  return {
    entity_type: get("entity_type"),
    entity_id: get("entity_id"),
    actor_type: get("actor_type"),
    actor_id: get("actor_id"),
    since: get("since"),
    until: get("until"),
  };
}

/** A datetime-local value (local time, no zone) as an ISO 8601 instant, or undefined. */
function toInstant(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** The audit log's entity types, labelled; those with a picker name it by name, not id. */
const ENTITY_TYPES: { value: string; label: string; pick?: EntityKind }[] = [
  { value: "contact", label: "Contact" },
  { value: "company", label: "Company", pick: "company" },
  { value: "segment", label: "Segment", pick: "segment" },
  { value: "campaign", label: "Campaign", pick: "campaign" },
  { value: "email", label: "Email", pick: "email" },
  { value: "broadcast", label: "Broadcast" },
  { value: "form", label: "Form", pick: "form" },
  { value: "page", label: "Landing page", pick: "page" },
  { value: "asset", label: "Asset", pick: "asset" },
  { value: "tag", label: "Tag" },
  { value: "stage", label: "Stage" },
  { value: "field", label: "Custom field" },
  { value: "project", label: "Project", pick: "project" },
  { value: "user", label: "User", pick: "user" },
  { value: "role", label: "Role" },
  { value: "api_token", label: "API token" },
  { value: "settings", label: "Settings" },
  { value: "contact_import", label: "Contact import" },
  { value: "campaign_import", label: "Campaign import" },
];

function toInt(value: string): number | undefined {
  return /^\d+$/.test(value) ? Number(value) : undefined;
}

export function AuditLogPage() {
  const [params, setParams] = useSearchParams();
  const applied = readFilters(params);
  const [draft, setDraft] = useState<Filters>(applied);
  const page = toInt(params.get("page") ?? "") ?? 1;
  const size = toInt(params.get("size") ?? "") ?? 50;

  const entries = useQuery({
    queryKey: ["audit", "list", applied, page, size],
    queryFn: async () => {
      const query: Record<string, string | number> = { "page[number]": page, "page[size]": size };
      if (applied.entity_type) query.entity_type = applied.entity_type;
      const entityId = toInt(applied.entity_id);
      if (entityId !== undefined) query.entity_id = entityId;
      if (applied.actor_type) query.actor_type = applied.actor_type;
      const actorId = toInt(applied.actor_id);
      if (actorId !== undefined) query.actor_id = actorId;
      const since = toInstant(applied.since);
      if (since) query.since = since;
      const until = toInstant(applied.until);
      if (until) query.until = until;
      return ok(await api.GET("/api/v2/audit-log", { params: { query } }));
    },
    placeholderData: keepPreviousData,
  });

  function apply(e: FormEvent) {
    e.preventDefault();
    const next = new URLSearchParams();
    for (const key of FILTER_KEYS) if (draft[key]) next.set(key, draft[key]);
    setParams(next);
  }

  function reset() {
    const empty = { entity_type: "", entity_id: "", actor_type: "", actor_id: "", since: "", until: "" };
    setDraft(empty);
    setParams(new URLSearchParams());
  }

  const set = (key: keyof Filters) => (e: { target: { value: string } }) =>
    setDraft((d) => ({ ...d, [key]: e.target.value }));

  const entityIdInvalid = draft.entity_id !== "" && toInt(draft.entity_id) === undefined;
  const actorIdInvalid = draft.actor_id !== "" && toInt(draft.actor_id) === undefined;
  const entityPick = ENTITY_TYPES.find((t) => t.value === draft.entity_type)?.pick;

  return (
    <>
      <PageHeader
        title="Audit log"
        description="Every change, with who made it and what it changed. Expand a row to see old and new values."
      />
      <form className="trellis-filters" onSubmit={apply} aria-label="Audit log filters">
        <Select
          id="audit-entity-type"
          labelText="Entity type"
          value={draft.entity_type}
          onChange={(e) => setDraft((d) => ({ ...d, entity_type: e.target.value, entity_id: "" }))}
        >
          <SelectItem value="" text="Any" />
          {ENTITY_TYPES.map((t) => (
            <SelectItem key={t.value} value={t.value} text={t.label} />
          ))}
          {draft.entity_type && !ENTITY_TYPES.some((t) => t.value === draft.entity_type) ? (
            <SelectItem value={draft.entity_type} text={draft.entity_type} />
          ) : null}
        </Select>
        {entityPick ? (
          <EntityPicker
            id="audit-entity-id"
            kind={entityPick}
            label={ENTITY_TYPES.find((t) => t.value === draft.entity_type)?.label ?? "Entity"}
            value={toInt(draft.entity_id) ?? null}
            allowCreate={false}
            onChange={(id) => setDraft((d) => ({ ...d, entity_id: id === null ? "" : String(id) }))}
          />
        ) : (
          <TextInput
            id="audit-entity-id"
            labelText="Entity ID"
            inputMode="numeric"
            value={draft.entity_id}
            onChange={set("entity_id")}
            invalid={entityIdInvalid}
            invalidText="A whole number."
            disabled={!draft.entity_type}
            helperText={draft.entity_type ? undefined : "Choose an entity type first."}
          />
        )}
        <Select
          id="audit-actor-type"
          labelText="Actor type"
          value={draft.actor_type}
          onChange={(e) => setDraft((d) => ({ ...d, actor_type: e.target.value, actor_id: "" }))}
        >
          <SelectItem value="" text="Any" />
          <SelectItem value="user" text="User" />
          <SelectItem value="token" text="API token" />
          <SelectItem value="system" text="System" />
        </Select>
        {draft.actor_type === "user" ? (
          <EntityPicker
            id="audit-actor-id"
            kind="user"
            label="User"
            value={toInt(draft.actor_id) ?? null}
            allowCreate={false}
            onChange={(id) => setDraft((d) => ({ ...d, actor_id: id === null ? "" : String(id) }))}
          />
        ) : draft.actor_type === "token" ? (
          <TextInput
            id="audit-actor-id"
            labelText="Token ID"
            inputMode="numeric"
            value={draft.actor_id}
            onChange={set("actor_id")}
            invalid={actorIdInvalid}
            invalidText="A whole number."
          />
        ) : null}
        <TextInput
          id="audit-since"
          labelText="From"
          type="datetime-local"
          value={draft.since}
          onChange={set("since")}
        />
        <TextInput id="audit-until" labelText="To" type="datetime-local" value={draft.until} onChange={set("until")} />
        <div style={{ display: "flex", gap: "0.5rem" }}>
          <Button type="submit" size="md" disabled={entityIdInvalid || actorIdInvalid}>
            Apply filters
          </Button>
          <Button kind="ghost" size="md" onClick={reset}>
            Reset
          </Button>
        </div>
      </form>
      <AuditTable
        title="Entries"
        entries={entries.data?.data}
        loading={entries.isPending}
        footer={
          <Pagination
            page={page}
            pageSize={size}
            pageSizes={[25, 50, 100, 200]}
            totalItems={entries.data?.meta.total ?? 0}
            onChange={({ page: p, pageSize }: { page: number; pageSize: number }) => {
              const next = new URLSearchParams(params);
              next.set("page", String(p));
              next.set("size", String(pageSize));
              setParams(next);
            }}
          />
        }
      />
    </>
  );
}
