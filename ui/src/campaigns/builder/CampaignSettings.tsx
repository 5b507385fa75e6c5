/** The campaign's own settings and its sources (where contacts enter). */
import { Add, Document, TrashCan } from "@carbon/icons-react";
import {
  Button,
  Checkbox,
  ComboBox,
  FilterableMultiSelect,
  InlineNotification,
  RadioButton,
  RadioButtonGroup,
  Select,
  SelectItem,
  TextArea,
  TextInput,
} from "@carbon/react";
import { memo, useMemo } from "react";
import { timeZones } from "../../lib/timezones";
import type { CampaignDoc, SourceDoc } from "../canvas/types";
import type { LocatedProblem } from "../lib/pointers";
import { useFormsList } from "../../forms/api";
import { FormSourcePicker } from "./FormSourcePicker";
import { useProjectsList, useSegmentsList } from "./pickers";
import { fromLocalInput, toLocalInput } from "./TimingEditor";

const REACTIVATION = [
  {
    value: "count_all_time",
    label: "Count every past run",
    help: "A contact who already went through does not restart.",
  },
  {
    value: "restart_on_publish",
    label: "Start over on publish",
    help: "Publishing again lets contacts who finished run it again.",
  },
  {
    value: "count_only_while_published",
    label: "Count only while published",
    help: "Runs that happened before an unpublish do not count against a restart.",
  },
] as const;

export interface CampaignSettingsProps {
  doc: CampaignDoc;
  readOnly: boolean;
  problems: readonly LocatedProblem[];
  onChange: (patch: Partial<CampaignDoc>, group: string) => void;
}

/** Redrawn only when a setting, a source or a problem changes, not when steps move. */
export const CampaignSettings = memo(
  function CampaignSettings({ doc, readOnly, problems, onChange }: CampaignSettingsProps) {
    const projects = useProjectsList();
    const zones = useMemo(() => timeZones(), []);
    const err = (setting: string) => {
      const found = problems.filter((p) => p.setting === setting || p.setting?.startsWith(`${setting}/`));
      return found.length ? { invalid: true, invalidText: found.map((p) => p.detail).join(" ") } : {};
    };
    const general = problems.filter(
      (p) =>
        p.event === null &&
        p.setting !== undefined &&
        !["name", "description", "projects", "publish_up", "publish_down", "default_timezone", "reactivation"].some(
          (f) => p.setting === f || p.setting!.startsWith(`${f}/`),
        ) &&
        !p.setting.startsWith("sources") &&
        !p.setting.startsWith("on_delete"),
    );
    const projectItems = (projects.data ?? []).map((p) => ({ id: p.id, label: p.name }));
    const chosenProjects = projectItems.filter((p) => (doc.projects ?? []).includes(p.id));
    return (
      <section className="trellis-cb__panel-body" aria-labelledby="trellis-campaign-heading">
        <h2 id="trellis-campaign-heading" className="trellis-cb__panel-title">
          Campaign
        </h2>
        {general.length ? (
          <InlineNotification
            kind="error"
            lowContrast
            hideCloseButton
            title="Fix the campaign"
            subtitle={general.map((p) => p.detail).join(" ")}
          />
        ) : null}
        <fieldset disabled={readOnly} className="trellis-cb__panel-fields">
          <TextInput
            id="campaign-name"
            labelText="Name"
            value={doc.name}
            maxLength={200}
            onChange={(e) => onChange({ name: e.target.value }, "campaign:name")}
            {...err("name")}
          />
          <TextArea
            id="campaign-description"
            labelText="Description (optional)"
            rows={2}
            value={doc.description ?? ""}
            onChange={(e) => onChange({ description: e.target.value }, "campaign:description")}
            {...err("description")}
          />
          <Sources doc={doc} readOnly={readOnly} problems={problems} onChange={onChange} />
          <h3 className="trellis-cb__section-title">Settings</h3>
          <FilterableMultiSelect<{ id: number; label: string }>
            id="campaign-projects"
            titleText="Projects (optional)"
            items={projectItems}
            itemToString={(p) => (p ? p.label : "")}
            selectedItems={chosenProjects}
            initialSelectedItems={chosenProjects}
            onChange={({ selectedItems }) =>
              onChange({ projects: (selectedItems ?? []).map((p) => p.id) }, "campaign:projects")
            }
            placeholder="Search projects"
            {...err("projects")}
          />
          <div className="trellis-cb__pair">
            <TextInput
              id="campaign-publish-up"
              type="datetime-local"
              labelText="Runs from (optional)"
              value={toLocalInput(doc.publish_up)}
              onChange={(e) => onChange({ publish_up: fromLocalInput(e.target.value) }, "campaign:publish_up")}
              {...err("publish_up")}
            />
            <TextInput
              id="campaign-publish-down"
              type="datetime-local"
              labelText="Runs until (optional)"
              value={toLocalInput(doc.publish_down)}
              onChange={(e) => onChange({ publish_down: fromLocalInput(e.target.value) }, "campaign:publish_down")}
              {...err("publish_down")}
            />
          </div>
          <Checkbox
            id="campaign-allow-restart"
            labelText="Contacts may go through it again"
            helperText="After leaving, a contact who qualifies again starts over."
            checked={doc.allow_restart ?? false}
            onChange={(_e, { checked }) => onChange({ allow_restart: checked }, "campaign:allow_restart")}
          />
          <Select
            id="campaign-reactivation"
            labelText="When a contact comes back"
            helperText={REACTIVATION.find((r) => r.value === doc.reactivation)?.help}
            value={doc.reactivation ?? "count_all_time"}
            onChange={(e) => onChange({ reactivation: e.target.value }, "campaign:reactivation")}
            {...err("reactivation")}
          >
            {REACTIVATION.map((r) => (
              <SelectItem key={r.value} value={r.value} text={r.label} />
            ))}
          </Select>
          <Checkbox
            id="campaign-exit-on-leave"
            labelText="Contacts leave when they leave the source segment"
            checked={doc.exit_on_source_leave ?? true}
            onChange={(_e, { checked }) => onChange({ exit_on_source_leave: checked }, "campaign:exit_on_source_leave")}
          />
          <ComboBox<string>
            id="campaign-timezone"
            titleText="Default time zone (optional)"
            helperText="For contacts without a time zone of their own."
            items={zones}
            selectedItem={doc.default_timezone ?? null}
            onChange={({ selectedItem }) =>
              onChange({ default_timezone: selectedItem ?? null }, "campaign:default_timezone")
            }
            placeholder="The server's default"
            {...err("default_timezone")}
          />
        </fieldset>
      </section>
    );
  },
  (a, b) =>
    a.readOnly === b.readOnly &&
    a.problems === b.problems &&
    a.onChange === b.onChange &&
    SETTINGS.every((k) => a.doc[k] === b.doc[k]),
);

const SETTINGS = [
  "name",
  "description",
  "projects",
  "publish_up",
  "publish_down",
  "allow_restart",
  "reactivation",
  "exit_on_source_leave",
  "default_timezone",
  "sources",
] as const;

function Sources({ doc, readOnly, problems, onChange }: CampaignSettingsProps) {
  const segments = useSegmentsList();
  const set = (sources: SourceDoc[]) => onChange({ sources }, "campaign:sources");
  const update = (index: number, patch: Partial<SourceDoc>) =>
    set(doc.sources.map((s, i) => (i === index ? { ...s, ...patch } : s)));
  const errorOf = (index: number) =>
    problems
      .filter((p) => p.setting?.startsWith(`sources/${index}`))
      .map((p) => p.detail)
      .join(" ");
  const used = new Set(doc.sources.filter((s) => s.kind === "segment").map((s) => s.id));
  const free = (segments.data ?? []).filter((s) => !used.has(s.id));
  const forms = useFormsList(!readOnly);
  const usedForms = new Set(doc.sources.filter((s) => s.kind === "form").map((s) => s.id));
  const freeForms = (forms.data ?? []).filter((f) => !usedForms.has(f.id));
  return (
    <fieldset className="trellis-cb__fieldset trellis-cb__sources" disabled={readOnly}>
      <legend>Contacts enter from</legend>
      {doc.sources.length === 0 ? (
        <p className="trellis-cb__helper">
          No source yet: add a segment or a form, or add contacts by hand or through the API once published.
        </p>
      ) : null}
      {doc.sources.map((source, index) => {
        const error = errorOf(index);
        const label = `Source ${index + 1}`;
        return (
          <div key={`${source.kind}-${index}`} className="trellis-cb__source" role="group" aria-label={label}>
            {source.kind === "segment" ? (
              <>
                <Select
                  id={`source-${index}-segment`}
                  labelText="Segment"
                  value={String(source.id)}
                  onChange={(e) => update(index, { id: Number(e.target.value) })}
                  invalid={!!error}
                  invalidText={error}
                >
                  {(segments.data ?? [])
                    .filter((s) => s.id === source.id || !used.has(s.id))
                    .map((s) => (
                      <SelectItem key={s.id} value={String(s.id)} text={s.name} />
                    ))}
                  {segments.data?.some((s) => s.id === source.id) ? null : (
                    <SelectItem value={String(source.id)} text={`Segment #${source.id}`} />
                  )}
                </Select>
                <RadioButtonGroup
                  legendText="Audience"
                  name={`source-${index}-audience`}
                  valueSelected={source.audience ?? "live"}
                  onChange={(value) =>
                    update(index, {
                      audience: String(value) as SourceDoc["audience"],
                      ...(value === "live" ? { locked_at: null } : {}),
                    })
                  }
                >
                  <RadioButton
                    id={`source-${index}-live`}
                    value="live"
                    labelText="Live: whoever joins the segment later enters too"
                  />
                  <RadioButton
                    id={`source-${index}-locked`}
                    value="locked"
                    labelText="Locked: only who is in the segment at a moment"
                  />
                </RadioButtonGroup>
                {source.audience === "locked" ? (
                  <TextInput
                    id={`source-${index}-locked-at`}
                    type="datetime-local"
                    labelText="Locked at (empty: when the campaign is published)"
                    value={toLocalInput(source.locked_at)}
                    onChange={(e) => update(index, { locked_at: fromLocalInput(e.target.value) })}
                  />
                ) : null}
              </>
            ) : (
              <FormSourcePicker
                id={`source-${index}-form`}
                value={source.id}
                exclude={usedForms}
                invalidText={error || undefined}
                onChange={(formId) => update(index, { id: formId })}
              />
            )}
            {readOnly ? null : (
              <Button
                kind="ghost"
                size="sm"
                renderIcon={TrashCan}
                onClick={() => set(doc.sources.filter((_, i) => i !== index))}
              >
                Remove {label.toLowerCase()}
              </Button>
            )}
          </div>
        );
      })}
      {readOnly ? null : (
        <Button
          kind="tertiary"
          size="sm"
          renderIcon={Add}
          disabled={!free.length}
          onClick={() =>
            free[0] && set([...doc.sources, { kind: "segment", id: free[0].id, audience: "live", locked_at: null }])
          }
        >
          Add a segment
        </Button>
      )}
      {readOnly ? null : (
        <Button
          kind="tertiary"
          size="sm"
          renderIcon={Document}
          disabled={!freeForms.length}
          onClick={() =>
            freeForms[0] &&
            set([...doc.sources, { kind: "form", id: freeForms[0].id, audience: "live", locked_at: null }])
          }
        >
          Add a form
        </Button>
      )}
      {!readOnly && segments.data && !segments.data.length ? (
        <p className="trellis-cb__helper">Create a segment first, under Segments.</p>
      ) : null}
      {!readOnly && forms.data && !forms.data.length ? (
        <p className="trellis-cb__helper">A form makes whoever submits it enter at once: create one under Forms.</p>
      ) : null}
    </fieldset>
  );
}
