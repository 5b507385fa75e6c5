/** When a step runs: immediately, after a delay (hour, window, weekdays), on a date, or relative to a contact date field. */
import { Checkbox, NumberInput, RadioButton, RadioButtonGroup, Select, SelectItem, TextInput } from "@carbon/react";
import { useFields } from "../../api/queries";
import { clock, normalizeTiming, timingLabel, UNITS, WEEKDAY_NAMES, type Timing } from "../lib/timing";

export interface TimingEditorProps {
  id: string;
  timing: Timing;
  onChange: (timing: Timing) => void;
  /** On a decision's no path the delay is the time the contact has to act. */
  decisionNo: boolean;
  /** Errors keyed by the timing field ("" for the timing as a whole). */
  errors: Record<string, string>;
}

const MODES = [
  { value: "immediate", label: "Immediately" },
  { value: "interval", label: "After a delay" },
  { value: "date", label: "On a date" },
  { value: "relative", label: "Relative to a contact date" },
] as const;

/** "2026-12-01T08:00:00Z" as the value of a datetime-local input, in the browser's time. */
export function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function fromLocalInput(value: string): string | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

export function TimingEditor({ id, timing, onChange, decisionNo, errors }: TimingEditorProps) {
  const fields = useFields("contact");
  const dateFields = (fields.data ?? []).filter((f) => f.type === "date" || f.type === "datetime");
  const mode = timing.mode ?? "immediate";
  const set = (patch: Timing) => onChange(normalizeTiming({ ...timing, ...patch }));
  const err = (name: string) => (errors[name] ? { invalid: true, invalidText: errors[name] } : {});
  const weekdays = new Set(timing.weekdays ?? []);
  return (
    <div className="trellis-cb__timing">
      <RadioButtonGroup
        legendText={decisionNo ? "How long the contact has to act" : "When this step runs"}
        name={`${id}-mode`}
        orientation="vertical"
        valueSelected={mode}
        onChange={(value) => {
          const next = String(value) as Timing["mode"];
          set(
            next === "interval" && !timing.amount
              ? { mode: next, amount: 1, unit: timing.unit ?? "day" }
              : { mode: next },
          );
        }}
      >
        {MODES.map((m) => (
          <RadioButton key={m.value} id={`${id}-mode-${m.value}`} value={m.value} labelText={m.label} />
        ))}
      </RadioButtonGroup>
      {mode === "interval" ? (
        <>
          <div className="trellis-cb__pair">
            <NumberInput
              id={`${id}-amount`}
              label={decisionNo ? "Within" : "Wait"}
              min={0}
              max={100000}
              value={timing.amount ?? 0}
              onChange={(_e, { value }) => set({ amount: Number(value) || 0 })}
              {...err("amount")}
            />
            <Select
              id={`${id}-unit`}
              labelText="Unit"
              value={timing.unit ?? "day"}
              onChange={(e) => set({ unit: e.target.value as Timing["unit"] })}
            >
              {UNITS.map((u) => (
                <SelectItem key={u} value={u} text={`${u}s`} />
              ))}
            </Select>
          </div>
          <TextInput
            id={`${id}-at-hour`}
            type="time"
            labelText="At hour (optional, contact's time zone)"
            helperText="Runs at this hour, the next day when it has passed."
            value={clock(timing.at_hour) ?? ""}
            onChange={(e) => set({ at_hour: e.target.value || null })}
            {...err("at_hour")}
          />
          {clock(timing.at_hour) ? null : (
            <div className="trellis-cb__pair">
              <TextInput
                id={`${id}-window-start`}
                type="time"
                labelText="Allowed from (optional)"
                value={clock(timing.window_start) ?? ""}
                onChange={(e) => set({ window_start: e.target.value || null })}
                {...err("window_start")}
              />
              <TextInput
                id={`${id}-window-end`}
                type="time"
                labelText="Allowed until"
                value={clock(timing.window_end) ?? ""}
                onChange={(e) => set({ window_end: e.target.value || null })}
                {...err("window_end")}
              />
            </div>
          )}
          <fieldset className="trellis-cb__weekdays">
            <legend>On these days only (none: every day)</legend>
            {WEEKDAY_NAMES.map((name, day) => (
              <Checkbox
                key={name}
                id={`${id}-day-${day}`}
                labelText={name}
                checked={weekdays.has(day)}
                onChange={(_e, { checked }) => {
                  const next = new Set(weekdays);
                  if (checked) next.add(day);
                  else next.delete(day);
                  set({ weekdays: [...next] });
                }}
              />
            ))}
          </fieldset>
        </>
      ) : null}
      {mode === "date" ? (
        <TextInput
          id={`${id}-at`}
          type="datetime-local"
          labelText="Date and time (your time zone)"
          value={toLocalInput(timing.at)}
          onChange={(e) => set({ at: fromLocalInput(e.target.value) })}
          {...err("at")}
        />
      ) : null}
      {mode === "relative" ? (
        <>
          <Select
            id={`${id}-field`}
            labelText="Contact date field"
            value={timing.field ?? ""}
            onChange={(e) => set({ field: e.target.value || null })}
            {...err("field")}
          >
            <SelectItem value="" text={fields.isPending ? "Loading…" : "Choose a date field"} />
            {dateFields.map((f) => (
              <SelectItem key={f.alias} value={f.alias} text={`${f.label} (${f.alias})`} />
            ))}
          </Select>
          <div className="trellis-cb__pair">
            <NumberInput
              id={`${id}-offset`}
              label="Days (negative: before)"
              min={-3650}
              max={3650}
              value={timing.offset_days ?? 0}
              onChange={(_e, { value }) => set({ offset_days: Number(value) || 0 })}
              {...err("offset_days")}
            />
            <TextInput
              id={`${id}-rel-hour`}
              type="time"
              labelText="At hour"
              placeholder="09:00"
              value={clock(timing.at_hour) ?? ""}
              onChange={(e) => set({ at_hour: e.target.value || null })}
            />
          </div>
        </>
      ) : null}
      <p className="trellis-cb__timing-label" aria-live="polite">
        {timingLabel(timing, { decisionNo })}
      </p>
      {errors[""] ? <p className="trellis-cb__error">{errors[""]}</p> : null}
    </div>
  );
}
