import { Button, Select, SelectItem, Tag } from "@carbon/react";
import { Renew } from "@carbon/icons-react";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, ok } from "../../api/client";
import { describeError } from "../../api/problem";
import { ConfirmDelete } from "../../components/ConfirmDelete";
import { ListTable, type PageState } from "../../components/ListTable";
import { formatDateTime } from "../../components/common";
import { useToast } from "../../components/Toasts";
import { stepStatus } from "./format";
import { changeStep } from "./JourneySteps";
import type { Campaign, Failure } from "./types";
import { StepTypeLabel, useStepTypeIndex } from "../lib/stepTypes";

type Which = "" | "dead" | "failed";

export const failuresKey = (campaignId: number) => ["campaigns", "failures", campaignId] as const;

/** Dead steps (out of attempts) and failed ones waiting for their next attempt, with the
 * reason; dead ones can be retried one by one or all at once. */
export function CampaignFailures({
  campaign,
  editable,
  onTrace,
}: {
  campaign: Campaign;
  editable: boolean;
  onTrace: (contactId: number) => void;
}) {
  const { notify } = useToast();
  const queryClient = useQueryClient();
  const typeIndex = useStepTypeIndex();
  const [pageState, setPageState] = useState<PageState>({ page: 1, size: 25 });
  const [which, setWhich] = useState<Which>("");
  const [retryingAll, setRetryingAll] = useState(false);
  const failures = useQuery({
    queryKey: [...failuresKey(campaign.id), pageState, which],
    queryFn: async () =>
      ok(
        await api.GET("/api/v2/campaigns/{campaign_id}/failures", {
          params: {
            path: { campaign_id: campaign.id },
            query: {
              "page[number]": pageState.page,
              "page[size]": pageState.size,
              ...(which ? { status: which } : {}),
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
    refetchInterval: 10_000,
  });
  const refresh = async () => {
    await queryClient.invalidateQueries({ queryKey: failuresKey(campaign.id) });
    void queryClient.invalidateQueries({ queryKey: ["campaigns", "stats", campaign.id] });
    void queryClient.invalidateQueries({ queryKey: ["campaigns", "journey", campaign.id] });
  };
  const name = (f: Failure) => f.name || f.email || `Contact ${f.contact_id}`;
  async function retry(f: Failure) {
    try {
      await changeStep(campaign.id, f.contact_id, f.event_key, "retry");
      notify("success", "Step retried", `${f.event_name || f.type} for ${name(f)}`);
      await refresh();
    } catch (e) {
      notify("error", "Could not retry", describeError(e));
    }
  }
  return (
    <>
      <ListTable<Failure & { id: string }>
        title="Failures"
        description="Failed steps are tried again with growing delays; after the last attempt they are dead until someone retries them."
        columns={[
          {
            key: "contact",
            header: "Contact",
            render: (f) => (
              <Button kind="ghost" size="sm" className="trellis-link-button" onClick={() => onTrace(f.contact_id)}>
                {name(f)}
                <span className="cds--visually-hidden">: show the trace</span>
              </Button>
            ),
          },
          {
            key: "step",
            header: "Step",
            render: (f) => (
              <>
                {f.event_name || typeIndex.get(f.type)?.label || f.type}
                <div className="trellis-muted">
                  <StepTypeLabel type={f.type} index={typeIndex} />
                </div>
              </>
            ),
          },
          {
            key: "status",
            header: "Status",
            render: (f) => (
              <Tag size="sm" type={stepStatus(f.status).tag}>
                {stepStatus(f.status).label}
              </Tag>
            ),
          },
          { key: "attempts", header: "Attempts", render: (f) => f.attempts },
          { key: "reason", header: "Last error", render: (f) => f.reason ?? <span className="trellis-muted">—</span> },
          {
            key: "when",
            header: "When",
            render: (f) =>
              f.status === "dead"
                ? `Gave up ${formatDateTime(f.failed_at)}`
                : `Next attempt ${formatDateTime(f.next_attempt_at)}`,
          },
        ]}
        items={failures.data?.data.map((f) => ({ ...f, id: `${f.contact_id}-${f.event_key}-${f.rotation}` }))}
        loading={failures.isPending}
        rowLabel={(f) => `${name(f)}, ${f.event_name || f.type}`}
        emptyText="No failures."
        toolbar={
          <>
            <Select
              id="campaign-failures-status"
              labelText="Failure status"
              hideLabel
              className="trellis-toolbar-select"
              inline
              size="lg"
              value={which}
              onChange={(e) => {
                setWhich(e.target.value as Which);
                setPageState((s) => ({ ...s, page: 1 }));
              }}
            >
              <SelectItem value="" text="Failed and dead" />
              <SelectItem value="dead" text="Dead" />
              <SelectItem value="failed" text="Failed, will retry" />
            </Select>
            {editable ? (
              <Button renderIcon={Renew} kind="secondary" onClick={() => setRetryingAll(true)}>
                Retry all dead
              </Button>
            ) : null}
          </>
        }
        actions={[
          { label: "Retry", onClick: (f) => void retry(f), show: (f) => editable && f.status === "dead" },
          { label: "Show trace", onClick: (f) => onTrace(f.contact_id) },
        ]}
        pagination={{ state: pageState, total: failures.data?.meta.total ?? 0, onChange: setPageState }}
      />
      <ConfirmDelete
        open={retryingAll}
        title="Retry every dead step?"
        confirmLabel="Retry all"
        body="Every dead step of this campaign goes back in the schedule with its attempts reset, and runs at the next scheduler tick."
        onClose={() => setRetryingAll(false)}
        onConfirm={async () => {
          const result = ok(
            await api.POST("/api/v2/campaigns/{campaign_id}/retry-failed", {
              params: { path: { campaign_id: campaign.id } },
            }),
          );
          notify("success", `${result.retried ?? 0} step(s) retried`);
          await refresh();
        }}
      />
    </>
  );
}
