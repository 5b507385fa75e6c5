/** The settings of the selected step: name, its config from the type's JSON Schema, its timing. */
import { TrashCan } from "@carbon/icons-react";
import { memo } from "react";
import { Button, InlineNotification, TextArea, TextInput } from "@carbon/react";
import { KIND_LABEL, KindIcon } from "../lib/stepTypes";
import type { CampaignDoc, EventTypeInfo, StepDoc } from "../canvas/types";
import { stepTitle } from "../lib/doc";
import type { GraphProblem, TypeIndex } from "../lib/graph";
import { kindOf } from "../lib/graph";
import { configErrors } from "../lib/pointers";
import { cleanValue, type JsonSchema } from "../lib/schemaForm";
import { SchemaForm } from "./SchemaForm";
import { TimingEditor } from "./TimingEditor";

export interface StepPanelProps {
  /** The steps and edges only (not the whole document), so moving nodes does not redraw the panel. */
  events: CampaignDoc["events"];
  edges: CampaignDoc["edges"];
  step: StepDoc;
  info: EventTypeInfo | undefined;
  types: TypeIndex;
  problems: readonly GraphProblem[];
  readOnly: boolean;
  /** `group` names the field being edited, so typing in it is one undo step. */
  onChange: (patch: Partial<StepDoc>, group: string) => void;
  onDelete: () => void;
}

function fieldErrors(problems: readonly GraphProblem[], key: string, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of problems) {
    if (p.event !== key) continue;
    if (p.field !== prefix && !p.field.startsWith(`${prefix}/`)) continue;
    const rest = p.field === prefix ? "" : p.field.slice(prefix.length + 1);
    out[rest] = out[rest] ? `${out[rest]} ${p.detail}` : p.detail;
  }
  return out;
}

export const StepPanel = memo(function StepPanel({
  events,
  edges,
  step,
  info,
  types,
  problems,
  readOnly,
  onChange,
  onDelete,
}: StepPanelProps) {
  const kind = kindOf(step, types);
  const schema = (info?.schema ?? { type: "object", properties: {} }) as JsonSchema;
  const parentEdge = edges.find((e) => e.target === step.key);
  const parent = parentEdge?.source ? events.find((e) => e.key === parentEdge.source) : undefined;
  const decisionNo = !!parent && kindOf(parent, types) === "decision" && parentEdge?.path === "no";
  const general = problems.filter(
    (p) =>
      p.event === step.key &&
      !p.field.startsWith("config") &&
      !p.field.startsWith("timing") &&
      p.field !== "name" &&
      p.field !== "description",
  );
  const steps = events.filter((e) => e.key !== step.key).map((e) => ({ key: e.key, label: stepTitle(e, types) }));
  const nameError = fieldErrors(problems, step.key, "name")[""];
  return (
    <section className="trellis-cb__panel-body" aria-labelledby="trellis-step-heading">
      <div className={`trellis-cb__panel-kind trellis-cb__panel-kind--${kind ?? "action"}`}>
        <KindIcon kind={kind} />
        <span>{KIND_LABEL[kind ?? "action"]}</span>
      </div>
      <h2 id="trellis-step-heading" className="trellis-cb__panel-title">
        {info?.label ?? step.type}
      </h2>
      {info?.description ? <p className="trellis-cb__helper">{info.description}</p> : null}
      {general.length ? (
        <InlineNotification
          kind="error"
          lowContrast
          hideCloseButton
          title="Fix this step"
          subtitle={general.map((p) => p.detail).join(" ")}
        />
      ) : null}
      <fieldset disabled={readOnly} className="trellis-cb__panel-fields">
        <TextInput
          id="step-name"
          labelText="Name (optional)"
          placeholder={info?.label}
          value={step.name ?? ""}
          maxLength={200}
          onChange={(e) => onChange({ name: e.target.value }, `name:${step.key}`)}
          invalid={!!nameError}
          invalidText={nameError}
        />
        <TextArea
          id="step-description"
          labelText="Description (optional)"
          rows={2}
          value={step.description ?? ""}
          maxLength={2000}
          onChange={(e) => onChange({ description: e.target.value }, `description:${step.key}`)}
        />
        <h3 className="trellis-cb__section-title">Settings</h3>
        <SchemaForm
          idPrefix={`cfg-${step.key.slice(0, 8)}`}
          typeKey={step.type}
          schema={schema}
          value={step.config ?? {}}
          onChange={(config) =>
            onChange({ config: cleanValue(config, schema, schema) as Record<string, unknown> }, `config:${step.key}`)
          }
          errors={configErrors(problems, step.key)}
          steps={steps}
          references={info?.references}
        />
        <h3 className="trellis-cb__section-title">Timing</h3>
        {kind === "decision" ? (
          <p className="trellis-cb__helper">
            A decision waits for the contact and has no timing of its own. Set how long the contact has to act on the
            step under its no path.
          </p>
        ) : (
          <TimingEditor
            id={`timing-${step.key.slice(0, 8)}`}
            timing={step.timing ?? { mode: "immediate" }}
            onChange={(timing) => onChange({ timing }, `timing:${step.key}`)}
            decisionNo={decisionNo}
            errors={fieldErrors(problems, step.key, "timing")}
          />
        )}
      </fieldset>
      {readOnly ? null : (
        <Button kind="danger--tertiary" size="sm" renderIcon={TrashCan} onClick={onDelete}>
          Delete step
        </Button>
      )}
    </section>
  );
});
