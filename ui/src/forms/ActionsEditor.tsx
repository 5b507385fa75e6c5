/** Submit actions: what happens, in order, on each accepted submission. */
import { Add, ArrowDown, ArrowUp, TrashCan } from "@carbon/icons-react";
import {
  Button,
  Checkbox,
  ComboBox,
  IconButton,
  NumberInput,
  RadioButton,
  RadioButtonGroup,
  Select,
  SelectItem,
  TextInput,
} from "@carbon/react";
import { useQuery } from "@tanstack/react-query";
import { useState, type Dispatch } from "react";
import { api, ok } from "../api/client";
import { TagInput } from "../components/fields/TagInput";
import { MultiPicker } from "../campaigns/builder/pickers";
import { useDebounced } from "../lib/useDebounced";
import { invalid, type EditorErrors } from "./errors";
import { MAX_ACTIONS, type DraftAction } from "./fields";
import type { ActionType, FormAction } from "./types";

export const ACTION_TYPES: { type: ActionType; label: string; help: string }[] = [
  { type: "segments.add", label: "Add to segments", help: "The contact joins these segments." },
  { type: "segments.remove", label: "Remove from segments", help: "The contact leaves these segments." },
  { type: "tags.change", label: "Change tags", help: "Tags added to and removed from the contact." },
  { type: "points.change", label: "Change points", help: "Points added (or taken away, when negative)." },
  {
    type: "email.send_to_contact",
    label: "Send an email to the contact",
    help: "A published email, to the address of the submission.",
  },
  {
    type: "email.send_to_users",
    label: "Send an email to users",
    help: "Tell your team: users, addresses and the contact's owner.",
  },
  { type: "campaigns.add", label: "Add to campaigns", help: "The contact enters these campaigns." },
  { type: "webhook.send", label: "Call a webhook", help: "The submission, posted as JSON to a URL of yours." },
];

export const actionLabel = (type: string) => ACTION_TYPES.find((a) => a.type === type)?.label ?? type;

function useEmails(q: string) {
  return useQuery({
    queryKey: ["emails", "pick", q],
    queryFn: async () =>
      ok(
        await api.GET("/api/v2/emails", { params: { query: { "page[size]": 50, sort: "name", ...(q ? { q } : {}) } } }),
      ).data,
    staleTime: 30_000,
  });
}

function EmailPicker({
  id,
  value,
  onChange,
  invalidText,
}: {
  id: string;
  value: unknown;
  onChange: (id: number | null) => void;
  invalidText?: string;
}) {
  const [search, setSearch] = useState("");
  const q = useDebounced(search.trim(), 250);
  const emails = useEmails(q);
  const items = (emails.data ?? []).map((e) => ({
    id: e.id,
    label: e.is_published ? e.name : `${e.name} (unpublished)`,
  }));
  const selected =
    items.find((i) => i.id === value) ?? (typeof value === "number" ? { id: value, label: `Email #${value}` } : null);
  if (selected && !items.some((i) => i.id === selected.id)) items.unshift(selected);
  return (
    <ComboBox<{ id: number; label: string }>
      id={id}
      titleText="Email"
      items={items}
      itemToString={(i) => (i ? i.label : "")}
      selectedItem={selected}
      onChange={({ selectedItem }) => onChange(selectedItem?.id ?? null)}
      onInputChange={(text) => setSearch(text ?? "")}
      placeholder={emails.isPending ? "Loading…" : "Search emails"}
      invalid={!!invalidText}
      invalidText={invalidText}
    />
  );
}

function list<T>(value: unknown): T[] {
  return Array.isArray(value) ? (value as T[]) : [];
}

function ActionConfig({
  action,
  index,
  errors,
  onChange,
}: {
  action: FormAction;
  index: number;
  errors: Record<string, string>;
  onChange: (config: Record<string, unknown>) => void;
}) {
  const c = action.config;
  const set = (patch: Record<string, unknown>) => onChange({ ...c, ...patch });
  const msg = (path: string) => {
    const found = Object.entries(errors)
      .filter(([p]) => p === `config/${path}` || p.startsWith(`config/${path}/`))
      .map(([, v]) => v);
    return found.length ? found.join(" ") : undefined;
  };
  const id = `action-${index}`;
  switch (action.type) {
    case "segments.add":
    case "segments.remove":
      return (
        <MultiPicker
          id={`${id}-segments`}
          kind="segment"
          label="Segments"
          steps={[]}
          value={c.segments}
          invalidText={msg("segments")}
          onChange={(v) => set({ segments: v })}
        />
      );
    case "campaigns.add":
      return (
        <MultiPicker
          id={`${id}-campaigns`}
          kind="campaign"
          label="Campaigns"
          steps={[]}
          value={c.campaigns}
          invalidText={msg("campaigns")}
          onChange={(v) => set({ campaigns: v })}
        />
      );
    case "tags.change":
      return (
        <div className="trellis-grid-2">
          <TagInput
            id={`${id}-add`}
            labelText="Add tags"
            value={list<string>(c.add)}
            onChange={(v) => set({ add: v })}
            {...invalid(msg("add"))}
          />
          <TagInput
            id={`${id}-remove`}
            labelText="Remove tags"
            value={list<string>(c.remove)}
            onChange={(v) => set({ remove: v })}
            {...invalid(msg("remove"))}
          />
        </div>
      );
    case "points.change":
      return (
        <NumberInput
          id={`${id}-delta`}
          label="Points (negative to take away)"
          step={1}
          allowEmpty
          value={typeof c.delta === "number" ? c.delta : ""}
          onChange={(_e, { value }) => set({ delta: value === "" ? null : Math.trunc(Number(value)) })}
          {...invalid(msg("delta"))}
        />
      );
    case "email.send_to_contact":
      return (
        <div className="trellis-grid-2">
          <EmailPicker
            id={`${id}-email`}
            value={c.email_id}
            onChange={(v) => set({ email_id: v })}
            invalidText={msg("email_id")}
          />
          <RadioButtonGroup
            legendText="Sent as"
            name={`${id}-kind`}
            valueSelected={c.kind === "marketing" ? "marketing" : "transactional"}
            onChange={(v) => set({ kind: v })}
          >
            <RadioButton
              id={`${id}-kind-transactional`}
              value="transactional"
              labelText="Transactional: the visitor asked for it"
            />
            <RadioButton
              id={`${id}-kind-marketing`}
              value="marketing"
              labelText="Marketing: respects Do Not Contact, once per contact"
            />
          </RadioButtonGroup>
        </div>
      );
    case "email.send_to_users":
      return (
        <div className="trellis-fe__action-fields">
          <EmailPicker
            id={`${id}-email`}
            value={c.email_id}
            onChange={(v) => set({ email_id: v })}
            invalidText={msg("email_id")}
          />
          <MultiPicker
            id={`${id}-users`}
            kind="user"
            label="Users"
            steps={[]}
            value={c.user_ids}
            invalidText={msg("user_ids")}
            onChange={(v) => set({ user_ids: v })}
          />
          <TagInput
            id={`${id}-addresses`}
            labelText="Other addresses"
            suggest={false}
            helperText="Press Enter or comma after each address"
            value={list<string>(c.addresses)}
            onChange={(v) => set({ addresses: v })}
            {...invalid(msg("addresses"))}
          />
          <Checkbox
            id={`${id}-owner`}
            labelText="The contact's owner"
            checked={c.to_owner === true}
            onChange={(_e, { checked }) => set({ to_owner: checked })}
          />
        </div>
      );
    case "webhook.send":
      return (
        <div className="trellis-fe__webhook">
          <TextInput
            id={`${id}-url`}
            labelText="URL"
            type="url"
            placeholder="https://"
            value={typeof c.url === "string" ? c.url : ""}
            onChange={(e) => set({ url: e.target.value })}
            {...invalid(msg("url"))}
          />
          <Select
            id={`${id}-method`}
            labelText="Method"
            value={typeof c.method === "string" ? c.method : "POST"}
            onChange={(e) => set({ method: e.target.value })}
            {...invalid(msg("method"))}
          >
            {["POST", "PUT", "PATCH"].map((m) => (
              <SelectItem key={m} value={m} text={m} />
            ))}
          </Select>
        </div>
      );
  }
}

export function ActionsEditor({
  actions,
  dispatch,
  errors,
  readOnly,
}: {
  actions: readonly FormAction[];
  dispatch: Dispatch<DraftAction>;
  errors: EditorErrors;
  readOnly: boolean;
}) {
  const [adding, setAdding] = useState<ActionType>("segments.add");
  return (
    <section className="trellis-fe__actions" aria-labelledby="form-actions-heading">
      <h2 id="form-actions-heading" className="trellis-h3">
        When a submission is accepted
      </h2>
      <p className="trellis-muted">The contact is created or updated first; then these run in order.</p>
      {actions.length === 0 ? (
        <p className="trellis-muted">No action: the submission is kept and the contact saved.</p>
      ) : null}
      <ol className="trellis-fe__action-list">
        {actions.map((a, i) => {
          const errs = errors.actions[i] ?? {};
          const own = Object.entries(errs)
            .filter(([p]) => !p.startsWith("config/"))
            .map(([, v]) => v)
            .join(" ");
          const title = `${i + 1}. ${actionLabel(a.type)}`;
          return (
            <li key={i} className="trellis-panel trellis-fe__action" aria-label={title} data-action-type={a.type}>
              <div className="trellis-fe__action-head">
                <h3 className="trellis-h3">{title}</h3>
                {readOnly ? null : (
                  <span className="trellis-fe__row-actions">
                    <IconButton
                      kind="ghost"
                      size="sm"
                      label={`Move action ${i + 1} up`}
                      disabled={i === 0}
                      onClick={() => dispatch({ type: "moveAction", from: i, to: i - 1 })}
                    >
                      <ArrowUp />
                    </IconButton>
                    <IconButton
                      kind="ghost"
                      size="sm"
                      label={`Move action ${i + 1} down`}
                      disabled={i === actions.length - 1}
                      onClick={() => dispatch({ type: "moveAction", from: i, to: i + 1 })}
                    >
                      <ArrowDown />
                    </IconButton>
                    <IconButton
                      kind="ghost"
                      size="sm"
                      label={`Remove action ${i + 1}`}
                      onClick={() => dispatch({ type: "removeAction", index: i })}
                    >
                      <TrashCan />
                    </IconButton>
                  </span>
                )}
              </div>
              <p className="trellis-muted">{ACTION_TYPES.find((t) => t.type === a.type)?.help}</p>
              {own ? (
                <p className="trellis-fe__error" role="alert">
                  {own}
                </p>
              ) : null}
              <fieldset disabled={readOnly} className="trellis-fe__action-body">
                <ActionConfig
                  action={a}
                  index={i}
                  errors={errs}
                  onChange={(config) => dispatch({ type: "setActionConfig", index: i, config })}
                />
              </fieldset>
            </li>
          );
        })}
      </ol>
      {readOnly ? null : (
        <div className="trellis-fe__action-add">
          <Select
            id="form-action-type"
            labelText="Action to add"
            value={adding}
            onChange={(e) => setAdding(e.target.value as ActionType)}
          >
            {ACTION_TYPES.map((t) => (
              <SelectItem key={t.type} value={t.type} text={t.label} />
            ))}
          </Select>
          <Button
            kind="tertiary"
            renderIcon={Add}
            disabled={actions.length >= MAX_ACTIONS}
            onClick={() => dispatch({ type: "addAction", actionType: adding })}
          >
            Add action
          </Button>
        </div>
      )}
    </section>
  );
}
