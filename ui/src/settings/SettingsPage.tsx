import { Button, Form, InlineNotification, Select, SelectItem, Stack, TextInput, Tile } from "@carbon/react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { api, ok } from "../api/client";
import { describeError } from "../api/problem";
import { useAuth } from "../auth/AuthContext";
import { FormMessages, PageHeader, PageLoading, useFormErrors } from "../components/common";
import { useToast } from "../components/Toasts";
import { RESOURCES } from "../lib/resources";
import { timeZones } from "../lib/timezones";

type Values = Record<string, unknown>;

function labelOf(key: string): string {
  const text = key.replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function SettingsPage() {
  const { can } = useAuth();
  const { notify } = useToast();
  const queryClient = useQueryClient();
  const zones = useMemo(() => timeZones(), []);
  const settings = useQuery({ queryKey: ["settings"], queryFn: async () => ok(await api.GET("/api/v2/settings")) });
  const system = useQuery({ queryKey: ["system"], queryFn: async () => ok(await api.GET("/api/v2/system")) });
  const [draft, setDraft] = useState<Values>({});
  const [busy, setBusy] = useState(false);
  const editable = can(RESOURCES.settings, "edit_others") || can(RESOURCES.settings, "edit_own");
  const keys = Object.keys(settings.data ?? {}).filter((k) => k !== "version");
  const form = useFormErrors(keys);

  // A fresh read replaces the draft, during render so no frame shows the stale values.
  const [draftOf, setDraftOf] = useState<unknown>(undefined);
  if (settings.data && settings.data !== draftOf) {
    setDraftOf(settings.data);
    setDraft({ ...(settings.data as Values) });
  }

  async function save() {
    if (!settings.data) return;
    setBusy(true);
    form.clear();
    const original = settings.data as Values;
    const changed: Values = {};
    for (const k of keys) if (JSON.stringify(draft[k]) !== JSON.stringify(original[k])) changed[k] = draft[k];
    try {
      const saved = ok(await api.PATCH("/api/v2/settings", { body: changed }));
      queryClient.setQueryData(["settings"], saved);
      notify("success", "Settings saved");
    } catch (error) {
      form.fromError(error);
    } finally {
      setBusy(false);
    }
  }

  function field(key: string) {
    const value = draft[key];
    const id = `setting-${key}`;
    const common = { id, labelText: labelOf(key), disabled: !editable, ...form.fieldProps(key) };
    if (key.endsWith("timezone")) {
      const current = typeof value === "string" ? value : "UTC";
      return (
        <Select
          key={key}
          {...common}
          value={current}
          onChange={(e) => setDraft((d) => ({ ...d, [key]: e.target.value }))}
        >
          {(zones.includes(current) ? zones : [current, ...zones]).map((z) => (
            <SelectItem key={z} value={z} text={z} />
          ))}
        </Select>
      );
    }
    if (typeof value === "boolean") {
      return (
        <Select
          key={key}
          {...common}
          value={value ? "true" : "false"}
          onChange={(e) => setDraft((d) => ({ ...d, [key]: e.target.value === "true" }))}
        >
          <SelectItem value="true" text="Yes" />
          <SelectItem value="false" text="No" />
        </Select>
      );
    }
    if (typeof value === "number") {
      return (
        <TextInput
          key={key}
          {...common}
          type="number"
          value={String(value)}
          onChange={(e) => setDraft((d) => ({ ...d, [key]: e.target.value === "" ? 0 : Number(e.target.value) }))}
        />
      );
    }
    if (typeof value === "string" || value === null || value === undefined) {
      return (
        <TextInput
          key={key}
          {...common}
          value={value ?? ""}
          onChange={(e) => setDraft((d) => ({ ...d, [key]: e.target.value }))}
        />
      );
    }
    return (
      <TextInput
        key={key}
        {...common}
        readOnly
        disabled
        value={JSON.stringify(value)}
        helperText="Edit this through the API."
      />
    );
  }

  return (
    <>
      <PageHeader
        title="Settings"
        description="Instance-wide settings. Changes apply at once and are recorded in the audit log."
      />
      <div className="trellis-stack">
        {settings.isPending ? (
          <PageLoading />
        ) : settings.isError ? (
          <InlineNotification
            kind="error"
            hideCloseButton
            title="Could not load settings"
            subtitle={describeError(settings.error)}
          />
        ) : (
          <Form
            className="trellis-form"
            aria-label="Instance settings"
            onSubmit={(e) => {
              e.preventDefault();
              void save();
            }}
          >
            <Stack gap={5}>
              <FormMessages errors={form.errors} />
              {keys.map(field)}
              {editable ? (
                <div>
                  <Button type="submit" disabled={busy}>
                    {busy ? "Saving…" : "Save settings"}
                  </Button>
                </div>
              ) : null}
            </Stack>
          </Form>
        )}
        <Tile>
          <h2 className="trellis-h2" style={{ marginBottom: "1rem" }}>
            System
          </h2>
          {system.isPending ? (
            <PageLoading label="Loading system information" />
          ) : system.isError ? (
            <InlineNotification
              kind="error"
              lowContrast
              hideCloseButton
              title="Could not load system information"
              subtitle={describeError(system.error)}
            />
          ) : (
            <dl className="trellis-dl">
              {Object.entries(system.data as Values).map(([k, v]) => (
                <div key={k} style={{ display: "contents" }}>
                  <dt>{labelOf(k)}</dt>
                  <dd>
                    {typeof v === "boolean"
                      ? v
                        ? "Yes"
                        : "No"
                      : typeof v === "string" || typeof v === "number"
                        ? String(v)
                        : JSON.stringify(v)}
                  </dd>
                </div>
              ))}
            </dl>
          )}
        </Tile>
      </div>
    </>
  );
}
