import {
  Button,
  Modal,
  Stack,
  Table,
  TableBody,
  TableCell,
  TableContainer,
  TableHead,
  TableHeader,
  TableRow,
  Tag,
  TextInput,
} from "@carbon/react";
import { useState } from "react";
import { api, ok } from "../../api/client";
import { describeError, problemToFormErrors } from "../../api/problem";
import { formatDateTime } from "../../components/common";
import { ConfirmDelete } from "../../components/ConfirmDelete";
import { useToast } from "../../components/Toasts";
import { fromLocalInput, stepActions, stepReason, stepStatus, toLocalInput } from "./format";
import type { Journey, JourneyStep } from "./types";
import { StepTypeLabel, useStepTypeIndex } from "../lib/stepTypes";

type Action = "reschedule" | "cancel" | "retry";

/** Ask the API to reschedule, cancel or retry one step of a contact; returns the new journey. */
export async function changeStep(
  campaignId: number,
  contactId: number,
  eventKey: string,
  action: Action,
  dueAt?: string,
): Promise<Journey> {
  return ok(
    await api.POST("/api/v2/campaigns/{campaign_id}/contacts/{contact_id}/steps/{event_key}", {
      params: { path: { campaign_id: campaignId, contact_id: contactId, event_key: eventKey } },
      body: dueAt ? { action, due_at: dueAt } : { action },
    }),
  );
}

function RescheduleModal({
  step,
  onClose,
  onSubmit,
}: {
  step: JourneyStep | null;
  onClose: () => void;
  onSubmit: (dueAt: string) => Promise<void>;
}) {
  const [value, setValue] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [opened, setOpened] = useState<JourneyStep | null>(null);
  if (step !== opened) {
    // A newly opened step starts from its current due time.
    setOpened(step);
    setValue(toLocalInput(step?.due_at));
    setError(null);
  }
  const instant = fromLocalInput(value);
  async function reschedule() {
    if (!instant) return;
    setBusy(true);
    setError(null);
    try {
      await onSubmit(instant);
    } catch (e) {
      const errors = problemToFormErrors(e, ["due_at"]);
      setError(errors.fields.due_at ?? (errors.general.join(" ") || describeError(e)));
    } finally {
      setBusy(false);
    }
  }
  return (
    <Modal
      open={step !== null}
      size="sm"
      modalHeading={`Reschedule ${step?.event_name || step?.type || "step"}`}
      primaryButtonText={busy ? "Saving…" : "Reschedule"}
      primaryButtonDisabled={busy || instant === null}
      secondaryButtonText="Cancel"
      onRequestClose={onClose}
      onRequestSubmit={() => void reschedule()}
    >
      <Stack gap={5}>
        <p>
          {step?.status === "waiting"
            ? "The decision waits for the contact until this time, then takes its no path."
            : "The step runs at this time (your local time)."}
        </p>
        <TextInput
          id="reschedule-due"
          labelText="New date and time"
          type="datetime-local"
          value={value}
          onChange={(e) => setValue(e.target.value)}
          data-modal-primary-focus
          invalid={error !== null}
          invalidText={error ?? undefined}
        />
      </Stack>
    </Modal>
  );
}

/**
 * A contact's steps through one campaign: status, when it was reached, due and done, attempts
 * and the reason; open steps can be rescheduled or cancelled and dead ones retried.
 */
export function JourneySteps({
  campaignId,
  contactId,
  journey,
  editable,
  title,
  onChanged,
  compact = false,
}: {
  campaignId: number;
  contactId: number;
  journey: Journey;
  editable: boolean;
  title: string;
  onChanged: (next: Journey) => void;
  /** For a narrow column: reached and attempts folded into the other cells. */
  compact?: boolean;
}) {
  const { notify } = useToast();
  const [rescheduling, setRescheduling] = useState<JourneyStep | null>(null);
  const [cancelling, setCancelling] = useState<JourneyStep | null>(null);
  const [busyKey, setBusyKey] = useState<string | null>(null);
  const typeIndex = useStepTypeIndex();
  const label = (s: JourneyStep) => s.event_name || typeIndex.get(s.type)?.label || s.type;
  const currentPass = journey.member?.rotation ?? null;

  async function retry(s: JourneyStep) {
    setBusyKey(s.event_key);
    try {
      onChanged(await changeStep(campaignId, contactId, s.event_key, "retry"));
      notify("success", "Step retried", `${label(s)} runs again at the next scheduler tick.`);
    } catch (e) {
      notify("error", "Could not retry", describeError(e));
    } finally {
      setBusyKey(null);
    }
  }

  if (journey.steps.length === 0) {
    return (
      <p className="trellis-muted">No step reached yet: the contact's first steps run at the next scheduler tick.</p>
    );
  }
  return (
    <>
      <div className="trellis-scroll-x">
        <TableContainer title={title}>
          <Table aria-label={title} size={compact ? "sm" : "md"}>
            <TableHead>
              <TableRow>
                <TableHeader>Step</TableHeader>
                <TableHeader>Status</TableHeader>
                {compact ? null : <TableHeader>Reached</TableHeader>}
                <TableHeader>{compact ? "When" : "Due / done"}</TableHeader>
                {compact ? null : <TableHeader>Attempts</TableHeader>}
                <TableHeader>Reason</TableHeader>
                {editable ? (
                  <TableHeader>
                    <span className="cds--visually-hidden">Actions</span>
                  </TableHeader>
                ) : null}
              </TableRow>
            </TableHead>
            <TableBody>
              {journey.steps.map((s) => {
                const status = stepStatus(s.status);
                const actions = currentPass === null || s.rotation === currentPass ? stepActions(s.status) : [];
                const reason = stepReason(s.detail);
                return (
                  <TableRow key={`${s.event_key}-${s.rotation}`} data-step={s.event_key}>
                    <TableCell>
                      <strong>{label(s)}</strong>
                      <div className="trellis-muted">
                        <StepTypeLabel type={s.type} index={typeIndex} />
                        {s.rotation > 1 ? ` · pass ${s.rotation}` : ""}
                      </div>
                    </TableCell>
                    <TableCell>
                      <Tag size="sm" type={status.tag}>
                        {status.label}
                      </Tag>
                      {compact && s.attempts ? <div className="trellis-muted">{s.attempts} attempt(s)</div> : null}
                    </TableCell>
                    {compact ? null : <TableCell>{formatDateTime(s.reached_at)}</TableCell>}
                    <TableCell>
                      {s.done_at ? (
                        formatDateTime(s.done_at)
                      ) : s.due_at ? (
                        <>
                          {s.status === "waiting" ? "until " : "due "}
                          {formatDateTime(s.due_at)}
                        </>
                      ) : (
                        "—"
                      )}
                    </TableCell>
                    {compact ? null : <TableCell>{s.attempts || "—"}</TableCell>}
                    <TableCell>{reason ?? <span className="trellis-muted">—</span>}</TableCell>
                    {editable ? (
                      <TableCell>
                        <div className="trellis-actions">
                          {actions.includes("reschedule") ? (
                            <Button size="sm" kind="ghost" onClick={() => setRescheduling(s)}>
                              Reschedule<span className="cds--visually-hidden"> {label(s)}</span>
                            </Button>
                          ) : null}
                          {actions.includes("cancel") ? (
                            <Button size="sm" kind="ghost" onClick={() => setCancelling(s)}>
                              Cancel<span className="cds--visually-hidden"> {label(s)}</span>
                            </Button>
                          ) : null}
                          {actions.includes("retry") ? (
                            <Button
                              size="sm"
                              kind="ghost"
                              disabled={busyKey === s.event_key}
                              onClick={() => void retry(s)}
                            >
                              Retry<span className="cds--visually-hidden"> {label(s)}</span>
                            </Button>
                          ) : null}
                        </div>
                      </TableCell>
                    ) : null}
                  </TableRow>
                );
              })}
            </TableBody>
          </Table>
        </TableContainer>
      </div>
      <RescheduleModal
        step={rescheduling}
        onClose={() => setRescheduling(null)}
        onSubmit={async (dueAt) => {
          if (!rescheduling) return;
          onChanged(await changeStep(campaignId, contactId, rescheduling.event_key, "reschedule", dueAt));
          notify("success", "Step rescheduled", `${label(rescheduling)}: ${formatDateTime(dueAt)}`);
          setRescheduling(null);
        }}
      />
      <ConfirmDelete
        open={cancelling !== null}
        title={`Cancel ${cancelling ? label(cancelling) : "step"}?`}
        confirmLabel="Cancel step"
        body="The step will not run for this contact, and the steps after it are not reached. The contact stays in the campaign."
        onClose={() => setCancelling(null)}
        onConfirm={async () => {
          if (!cancelling) return;
          onChanged(await changeStep(campaignId, contactId, cancelling.event_key, "cancel"));
          notify("success", "Step cancelled", label(cancelling));
        }}
      />
    </>
  );
}
