/** The builder's confirmations: publishing, and what to do with contacts waiting on removed steps. */
import { InlineLoading, Modal, Select, SelectItem } from "@carbon/react";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useResetOnOpen } from "../../components/common";
import { problemFromResponse } from "../../api/problem";
import type { CampaignDoc, StepDoc } from "../canvas/types";
import { stepTitle } from "../lib/doc";
import type { TypeIndex } from "../lib/graph";

export interface PublishPreview {
  entering_now: number;
  sources: { kind: string; id: number; name: string; audience: "live" | "locked"; count: number }[];
}

/**
 * How many contacts would enter now. The endpoint is newer than the builder: a 404 means the
 * server does not have it, and the dialog then says nothing about counts.
 */
async function fetchPreview(campaignId: number): Promise<PublishPreview | null> {
  const response = await fetch(`/api/v2/campaigns/${campaignId}/publish-preview`, {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  });
  if (response.status === 404) {
    const problem = await problemFromResponse(response);
    // A 404 about the campaign itself is a real error; a 404 of the route means no preview.
    if (/campaign/i.test(problem.detail)) throw problem;
    return null;
  }
  if (!response.ok) throw await problemFromResponse(response);
  return (await response.json()) as PublishPreview;
}

function plural(n: number, one: string, many: string): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

export function PublishDialog({
  campaignId,
  doc,
  open,
  busy,
  onConfirm,
  onClose,
}: {
  campaignId: number;
  doc: CampaignDoc;
  open: boolean;
  busy: boolean;
  onConfirm: () => void;
  onClose: () => void;
}) {
  const preview = useQuery({
    queryKey: ["campaigns", campaignId, "publish-preview"],
    queryFn: () => fetchPreview(campaignId),
    enabled: open,
    retry: false,
    staleTime: 0,
    gcTime: 0,
  });
  const live = doc.sources.some((s) => s.audience !== "locked");
  return (
    <Modal
      open={open}
      modalHeading={`Publish “${doc.name}”?`}
      primaryButtonText={busy ? "Publishing…" : "Publish"}
      secondaryButtonText="Cancel"
      primaryButtonDisabled={busy}
      onRequestSubmit={onConfirm}
      onRequestClose={onClose}
      size="sm"
    >
      <div className="trellis-cb__dialog-text" data-testid="publish-summary">
        <p>Publishing starts the campaign: its steps run for every contact who enters, on their schedule.</p>
        {preview.isPending ? <InlineLoading description="Counting the contacts who would enter" /> : null}
        {preview.data ? (
          <>
            <p>
              <strong>{plural(preview.data.entering_now, "contact enters", "contacts enter")} now.</strong>
            </p>
            <ul>
              {preview.data.sources.map((s) => (
                <li key={`${s.kind}-${s.id}`}>
                  {s.name}: {plural(s.count, "contact", "contacts")},{" "}
                  {s.audience === "locked" ? "locked audience (nobody joins later)" : "live audience"}
                </li>
              ))}
            </ul>
          </>
        ) : null}
        {preview.isError ? <p>The number of contacts who would enter could not be counted.</p> : null}
        {doc.sources.length === 0 ? (
          <p>The campaign has no source: contacts enter only when added by hand or through the API.</p>
        ) : null}
        {live && doc.sources.length ? <p>Contacts who join a live segment later enter when they join.</p> : null}
      </div>
    </Modal>
  );
}

export type RemovedChoice = { redirect_to: string | null; cancel: boolean };

/**
 * Steps removed from a published campaign while contacts wait on them: per step, continue those
 * contacts at another step or cancel their waiting steps (Mautic 7's redirect on delete).
 */
export function RedirectDialog({
  waiting,
  removed,
  doc,
  types,
  busy,
  onConfirm,
  onClose,
}: {
  waiting: Record<string, number> | null;
  removed: Record<string, StepDoc>;
  doc: CampaignDoc;
  types: TypeIndex;
  busy: boolean;
  onConfirm: (choices: Record<string, RemovedChoice>) => void;
  onClose: () => void;
}) {
  const [choices, setChoices] = useState<Record<string, string>>({});
  useResetOnOpen(!!waiting, waiting, () => {
    if (waiting) setChoices(Object.fromEntries(Object.keys(waiting).map((k) => [k, "__cancel"])));
  });
  const keys = Object.keys(waiting ?? {});
  return (
    <Modal
      open={waiting !== null}
      modalHeading="Contacts are waiting on steps you removed"
      primaryButtonText={busy ? "Saving…" : "Save"}
      secondaryButtonText="Keep editing"
      primaryButtonDisabled={busy}
      onRequestClose={onClose}
      onRequestSubmit={() =>
        onConfirm(
          Object.fromEntries(
            keys.map((k) => [
              k,
              choices[k] && choices[k] !== "__cancel"
                ? { redirect_to: choices[k], cancel: false }
                : { redirect_to: null, cancel: true },
            ]),
          ),
        )
      }
    >
      <p className="trellis-cb__dialog-text">Choose, for each removed step, where its waiting contacts continue.</p>
      {keys.map((key) => {
        const step = removed[key];
        const name = step ? stepTitle(step, types) : `Step ${key.slice(0, 8)}`;
        const count = waiting?.[key] ?? 0;
        return (
          <Select
            key={key}
            id={`redirect-${key}`}
            labelText={`${name}: ${plural(count, "contact waits", "contacts wait")} here`}
            value={choices[key] ?? "__cancel"}
            onChange={(e) => setChoices((c) => ({ ...c, [key]: e.target.value }))}
          >
            <SelectItem value="__cancel" text="Cancel their waiting steps" />
            {doc.events.map((e) => (
              <SelectItem key={e.key} value={e.key} text={`Continue at: ${stepTitle(e, types)}`} />
            ))}
          </Select>
        );
      })}
    </Modal>
  );
}
