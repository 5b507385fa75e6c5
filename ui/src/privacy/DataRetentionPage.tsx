/** Settings > Data retention: each policy's switch and period, a dry run, a run now, and the
 * history of every run (docs/privacy.md). */
import { Button, InlineNotification, Select, SelectItem, TextInput, Toggle } from "@carbon/react";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { describeError } from "../api/problem";
import { useAuth } from "../auth/AuthContext";
import { ListTable, type PageState } from "../components/ListTable";
import { formatDateTime, PageHeader, PageLoading } from "../components/common";
import { useToast } from "../components/Toasts";
import { RESOURCES } from "../lib/resources";
import {
  type CleanupRun,
  periodText,
  policiesKey,
  privacyApi,
  privacyKey,
  type RetentionPolicy,
  runDetails,
  runOutcome,
  runsKey,
} from "./api";

function PolicyRow({ policy, editable }: { policy: RetentionPolicy; editable: boolean }) {
  const queryClient = useQueryClient();
  const { notify } = useToast();
  const [period, setPeriod] = useState(String(policy.period));
  const [error, setError] = useState<string | null>(null);

  async function save(body: Parameters<typeof privacyApi.updatePolicy>[1]) {
    setError(null);
    try {
      await privacyApi.updatePolicy(policy.name, body);
      await queryClient.invalidateQueries({ queryKey: policiesKey });
      notify("success", `${policy.label} saved`);
    } catch (e) {
      setError(describeError(e));
    }
  }

  const id = `policy-${policy.name}`;
  const changed = period !== String(policy.period);
  return (
    <section aria-labelledby={`${id}-label`} className="trellis-panel">
      <h3 id={`${id}-label`} className="trellis-h3">
        {policy.label}
      </h3>
      <p className="trellis-muted">{policy.description}</p>
      <div className="trellis-actions" style={{ alignItems: "flex-end", flexWrap: "wrap" }}>
        <Toggle
          id={`${id}-enabled`}
          labelText="Applied"
          labelA="Off"
          labelB="On"
          toggled={policy.enabled}
          disabled={!editable}
          onToggle={(checked: boolean) => void save({ enabled: checked })}
        />
        <TextInput
          id={`${id}-period`}
          labelText={`Period (${policy.unit})`}
          type="number"
          min={1}
          value={period}
          disabled={!editable}
          invalid={error !== null}
          invalidText={error ?? ""}
          helperText={`Default: ${policy.default_enabled ? "on" : "off"}, ${periodText(policy.default_period, policy.unit)}`}
          onChange={(e) => setPeriod(e.target.value)}
        />
        {policy.modes.length > 0 ? (
          <Select
            id={`${id}-mode`}
            labelText="What happens"
            value={policy.mode ?? ""}
            disabled={!editable}
            onChange={(e) => void save({ mode: e.target.value })}
          >
            {policy.modes.map((m) => (
              <SelectItem key={m} value={m} text={m === "anonymise" ? "Anonymise" : "Delete"} />
            ))}
          </Select>
        ) : null}
        {editable && changed ? (
          <Button size="md" onClick={() => void save({ period: Number(period) })}>
            Save period
          </Button>
        ) : null}
      </div>
      <p className="trellis-muted">
        Last run:{" "}
        {policy.last_run
          ? `${formatDateTime(policy.last_run.started_at)}: ${runOutcome(policy.last_run)}${policy.last_run.dry_run ? " (dry run)" : ""}`
          : "never"}
      </p>
    </section>
  );
}

export function DataRetentionPage() {
  const { can } = useAuth();
  const { notify } = useToast();
  const queryClient = useQueryClient();
  const editable = can(RESOURCES.settings, "edit_others");
  const [pageState, setPageState] = useState<PageState>({ page: 1, size: 20 });
  const [dryRun, setDryRun] = useState<CleanupRun[] | null>(null);
  const [busy, setBusy] = useState<"dry" | "run" | null>(null);
  const policies = useQuery({ queryKey: policiesKey, queryFn: privacyApi.policies });
  const runs = useQuery({
    queryKey: runsKey(pageState.page, pageState.size),
    queryFn: () => privacyApi.runs(pageState.page, pageState.size),
    placeholderData: keepPreviousData,
    // While a run is under way, its outcome shows up without a reload.
    refetchInterval: (query) =>
      query.state.data?.data.some((r) => r.status === "queued" || r.status === "running") ? 1000 : false,
  });

  async function start(dry: boolean) {
    setBusy(dry ? "dry" : "run");
    try {
      const started = await privacyApi.cleanup(dry);
      if (dry) setDryRun(started);
      else notify("success", `Clean-up started: ${started.length} ${started.length === 1 ? "policy" : "policies"}`);
      await queryClient.invalidateQueries({ queryKey: privacyKey });
    } catch (e) {
      notify("error", dry ? "Could not run the dry run" : "Could not start the clean-up", describeError(e));
    } finally {
      setBusy(null);
    }
  }

  return (
    <>
      <PageHeader
        title="Data retention"
        description="How long Trellis keeps personal data. Enabled policies run on their own every few hours, in small batches that live traffic does not notice; every run is recorded below."
        actions={
          editable ? (
            <div className="trellis-actions">
              <Button kind="tertiary" disabled={busy !== null} onClick={() => void start(true)}>
                {busy === "dry" ? "Counting…" : "Dry run"}
              </Button>
              <Button kind="primary" disabled={busy !== null} onClick={() => void start(false)}>
                {busy === "run" ? "Starting…" : "Run now"}
              </Button>
            </div>
          ) : null
        }
      />
      <div className="trellis-stack">
        {dryRun ? (
          <InlineNotification
            kind="info"
            title="Dry run: nothing was removed"
            subtitle={
              dryRun.length
                ? dryRun.map((r) => `${r.policy.replace(/_/g, " ")}: ${runOutcome(r)} (${runDetails(r)})`).join("; ")
                : "No policy is enabled."
            }
            onClose={() => setDryRun(null)}
          />
        ) : null}
        {policies.isPending ? (
          <PageLoading label="Loading retention policies" />
        ) : policies.isError ? (
          <InlineNotification
            kind="error"
            hideCloseButton
            title="Could not load the retention policies"
            subtitle={describeError(policies.error)}
          />
        ) : (
          <div aria-label="Retention policies">
            {policies.data.map((p) => (
              // Keyed by the saved period: a saved change starts the row's draft afresh.
              <PolicyRow key={`${p.name}-${p.period}`} policy={p} editable={editable} />
            ))}
          </div>
        )}
        <ListTable<CleanupRun>
          title="Run history"
          columns={[
            { key: "started", header: "Started", render: (r) => formatDateTime(r.started_at) },
            { key: "policy", header: "Policy", render: (r) => r.policy.replace(/_/g, " ") },
            { key: "kind", header: "Kind", render: (r) => `${r.dry_run ? "Dry run" : "Run"} (${r.trigger})` },
            { key: "outcome", header: "Outcome", render: (r) => runOutcome(r) },
            { key: "tables", header: "Tables", render: (r) => runDetails(r) },
            { key: "seconds", header: "Took", render: (r) => `${r.seconds.toFixed(2)} s` },
          ]}
          items={runs.data?.data}
          loading={runs.isPending}
          rowLabel={(r) => `Run ${r.id}`}
          emptyText="No clean-up has run yet."
          pagination={{ state: pageState, total: runs.data?.meta.total ?? 0, onChange: setPageState }}
        />
      </div>
    </>
  );
}
