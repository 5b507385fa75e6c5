import {
  Breadcrumb,
  BreadcrumbItem,
  Button,
  Checkbox,
  ComboBox,
  FilterableMultiSelect,
  InlineNotification,
  RadioButton,
  RadioButtonGroup,
  Select,
  SelectItem,
  Stack,
  TextInput,
} from "@carbon/react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { api, ifMatch, ok } from "../api/client";
import { FormMessages, PageHeader, PageLoading, useFormErrors } from "../components/common";
import { useToast } from "../components/Toasts";
import { broadcastKey, broadcastsKey, useAllSegments, useBroadcastEmails } from "./api";
import { allowed, AUDIENCE_MODES, bodyOf, checkDraft, draftOf, emptyDraft, type Draft } from "./format";
import type { AudienceMode, Broadcast, OverCap } from "./types";

const FIELDS = [
  "name",
  "email_id",
  "segment_ids",
  "excluded_segment_ids",
  "audience_mode",
  "start_at",
  "stop_at",
  "over_cap",
] as const;

interface Choice {
  id: number;
  label: string;
}

/** Create a broadcast, or edit one that has not started sending. */
export function BroadcastEditorPage() {
  const { broadcastId } = useParams();
  const id = broadcastId ? Number(broadcastId) : null;
  const existing = useQuery({
    queryKey: broadcastKey(id ?? 0),
    queryFn: async () =>
      ok(await api.GET("/api/v2/broadcasts/{broadcast_id}", { params: { path: { broadcast_id: id ?? 0 } } })),
    enabled: id !== null,
  });
  if (id !== null && existing.isPending) return <PageLoading />;
  if (id !== null && existing.isError) {
    return (
      <InlineNotification
        kind="error"
        title="Could not load the broadcast"
        subtitle={String(existing.error)}
        hideCloseButton
        lowContrast
      />
    );
  }
  return <Editor key={id ?? "new"} broadcast={existing.data ?? null} />;
}

function Editor({ broadcast }: { broadcast: Broadcast | null }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { notify } = useToast();
  const form = useFormErrors(FIELDS);
  const [draft, setDraft] = useState<Draft>(() => (broadcast ? draftOf(broadcast) : emptyDraft()));
  const [local, setLocal] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const emails = useBroadcastEmails();
  const segments = useAllSegments();
  const editable = broadcast === null || allowed(broadcast).edit;

  // Local problems belong to the draft they were found in (cleared during render, not in an effect).
  const [localFor, setLocalFor] = useState(draft);
  if (localFor !== draft) {
    setLocalFor(draft);
    setLocal({});
  }

  const emailChoices: Choice[] = useMemo(
    () => (emails.data ?? []).map((e) => ({ id: e.id, label: e.is_published ? e.name : `${e.name} (unpublished)` })),
    [emails.data],
  );
  const segmentChoices: Choice[] = useMemo(
    () => (segments.data ?? []).map((s) => ({ id: s.id, label: `${s.name} (${s.member_count.toLocaleString()})` })),
    [segments.data],
  );
  const chosen = (ids: number[]) => segmentChoices.filter((c) => ids.includes(c.id));
  const set = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));
  const err = (name: string) => {
    const message = local[name];
    return message ? { invalid: true, invalidText: message } : form.fieldProps(name);
  };

  async function save() {
    form.clear();
    const problems = checkDraft(draft);
    if (Object.keys(problems).length) {
      setLocal(problems);
      return;
    }
    setBusy(true);
    try {
      const body = bodyOf(draft);
      const saved = broadcast
        ? ok(
            await api.PATCH("/api/v2/broadcasts/{broadcast_id}", {
              params: { path: { broadcast_id: broadcast.id } },
              headers: ifMatch(broadcast.version),
              body,
            }),
          )
        : ok(await api.POST("/api/v2/broadcasts", { body }));
      notify("success", broadcast ? "Broadcast saved" : "Broadcast created", saved.name);
      queryClient.setQueryData(broadcastKey(saved.id), saved);
      await queryClient.invalidateQueries({ queryKey: [...broadcastsKey, "list"] });
      void navigate(`/broadcasts/${saved.id}`);
    } catch (e) {
      form.fromError(e);
    } finally {
      setBusy(false);
    }
  }

  const mode = AUDIENCE_MODES.find((m) => m.value === draft.audience_mode);
  return (
    <>
      <Breadcrumb noTrailingSlash>
        <BreadcrumbItem>
          <Link to="/broadcasts">Broadcasts</Link>
        </BreadcrumbItem>
        {broadcast ? (
          <BreadcrumbItem>
            <Link to={`/broadcasts/${broadcast.id}`}>{broadcast.name}</Link>
          </BreadcrumbItem>
        ) : null}
      </Breadcrumb>
      <PageHeader
        title={broadcast ? `Edit ${broadcast.name}` : "New broadcast"}
        description="A broadcast sends one email of kind “broadcast” to the members of segments. Marketing rules apply: Do Not Contact, category opt-outs and the frequency cap; each contact gets it at most once."
      />
      {!editable ? (
        <InlineNotification
          kind="info"
          lowContrast
          hideCloseButton
          title="Not editable"
          subtitle="This broadcast has started sending; it can no longer be changed."
        />
      ) : null}
      <FormMessages errors={form.errors} />
      <form
        className="trellis-broadcast-form"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <fieldset disabled={!editable || busy} style={{ border: 0, padding: 0, margin: 0 }}>
          <Stack gap={6}>
            <TextInput
              id="broadcast-name"
              labelText="Name"
              maxLength={200}
              value={draft.name}
              onChange={(e) => set({ name: e.target.value })}
              {...err("name")}
            />
            <ComboBox<Choice>
              id="broadcast-email"
              titleText="Email"
              helperText="Only emails of kind “broadcast” are listed; it must be published before the broadcast is scheduled."
              items={emailChoices}
              itemToString={(c) => (c ? c.label : "")}
              selectedItem={emailChoices.find((c) => c.id === draft.email_id) ?? null}
              onChange={({ selectedItem }) => set({ email_id: selectedItem ? selectedItem.id : null })}
              placeholder={emails.isPending ? "Loading…" : "Choose an email"}
              {...err("email_id")}
            />
            <FilterableMultiSelect<Choice>
              key={`include-${segmentChoices.length}`}
              id="broadcast-segments"
              titleText="Send to members of"
              helperText="Contacts in any of these segments; someone in two of them gets one message."
              items={segmentChoices}
              itemToString={(c) => (c ? c.label : "")}
              initialSelectedItems={chosen(draft.segment_ids)}
              onChange={({ selectedItems }) => set({ segment_ids: (selectedItems ?? []).map((c) => c.id) })}
              placeholder="Search segments"
              {...err("segment_ids")}
            />
            <FilterableMultiSelect<Choice>
              key={`exclude-${segmentChoices.length}`}
              id="broadcast-excluded"
              titleText="Except members of (optional)"
              helperText="Contacts in any of these segments are left out."
              items={segmentChoices}
              itemToString={(c) => (c ? c.label : "")}
              initialSelectedItems={chosen(draft.excluded_segment_ids)}
              onChange={({ selectedItems }) => set({ excluded_segment_ids: (selectedItems ?? []).map((c) => c.id) })}
              placeholder="Search segments"
              {...err("excluded_segment_ids")}
            />
            <RadioButtonGroup
              legendText="Audience"
              name="broadcast-audience"
              orientation="vertical"
              valueSelected={draft.audience_mode}
              onChange={(value) => set({ audience_mode: value as AudienceMode })}
              helperText={mode?.help}
              {...err("audience_mode")}
            >
              {AUDIENCE_MODES.map((m) => (
                <RadioButton key={m.value} id={`broadcast-audience-${m.value}`} value={m.value} labelText={m.label} />
              ))}
            </RadioButtonGroup>
            <Checkbox
              id="broadcast-start-now"
              labelText="Start as soon as it is scheduled"
              checked={draft.start_now}
              onChange={(_e, { checked }) => set({ start_now: checked })}
            />
            {!draft.start_now ? (
              <TextInput
                id="broadcast-start"
                type="datetime-local"
                labelText="Start sending at"
                value={draft.start_at}
                onChange={(e) => set({ start_at: e.target.value })}
                {...err("start_at")}
              />
            ) : null}
            {draft.audience_mode === "live" ? (
              <TextInput
                id="broadcast-stop"
                type="datetime-local"
                labelText="Stop sending to new members at"
                helperText="Contacts who join after this time do not get it."
                value={draft.stop_at}
                onChange={(e) => set({ stop_at: e.target.value })}
                {...err("stop_at")}
              />
            ) : null}
            <Select
              id="broadcast-over-cap"
              labelText="Contacts at their frequency cap"
              value={draft.over_cap}
              onChange={(e) => set({ over_cap: e.target.value as OverCap })}
              {...err("over_cap")}
            >
              <SelectItem value="skip" text="Skip them" />
              <SelectItem value="defer" text="Send when the cap allows" />
            </Select>
            <div style={{ display: "flex", gap: "1rem" }}>
              <Button type="submit" disabled={!editable || busy}>
                {busy ? "Saving…" : broadcast ? "Save" : "Create"}
              </Button>
              <Button
                kind="secondary"
                onClick={() => void navigate(broadcast ? `/broadcasts/${broadcast.id}` : "/broadcasts")}
              >
                Cancel
              </Button>
            </div>
          </Stack>
        </fieldset>
      </form>
    </>
  );
}
