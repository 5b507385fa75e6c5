/* eslint-disable jsx-a11y/no-noninteractive-element-interactions -- arrow keys and Escape are
   handled on a labelled group around focusable controls (keyboard use of the controls inside),
   not as a click target of its own */
/**
 * A searchable list of step types grouped by kind. Used by the palette (drag or press Enter)
 * and by the "+" menu on a handle (only the types that may connect there).
 */
import { Search } from "@carbon/react";
import { useMemo, useState, type DragEvent, type KeyboardEvent } from "react";
import { KIND_LABEL, KindIcon } from "./nodes";
import type { EventTypeInfo } from "./types";

export const STEP_MIME = "application/x-trellis-step";
const KIND_ORDER = ["action", "condition", "decision"] as const;
const KIND_PLURAL: Record<string, string> = { action: "Actions", condition: "Conditions", decision: "Decisions" };

export function groupTypes(types: readonly EventTypeInfo[], query: string): { kind: string; types: EventTypeInfo[] }[] {
  const q = query.trim().toLowerCase();
  const match = (t: EventTypeInfo) =>
    !q || [t.label, t.description, t.group, t.key, KIND_LABEL[t.kind] ?? ""].some((s) => s.toLowerCase().includes(q));
  return KIND_ORDER.map((kind) => ({
    kind,
    types: types
      .filter((t) => t.kind === kind && match(t))
      .sort((a, b) => a.group.localeCompare(b.group) || a.label.localeCompare(b.label)),
  })).filter((g) => g.types.length);
}

export interface StepPickerProps {
  types: readonly EventTypeInfo[];
  onPick: (type: EventTypeInfo) => void;
  draggable?: boolean;
  autoFocus?: boolean;
  id: string;
  label: string;
  onEscape?: () => void;
}

export function StepPicker({
  types,
  onPick,
  draggable = false,
  autoFocus = false,
  id,
  label,
  onEscape,
}: StepPickerProps) {
  const [query, setQuery] = useState("");
  const groups = useMemo(() => groupTypes(types, query), [types, query]);
  const onDragStart = (event: DragEvent<HTMLButtonElement>, type: EventTypeInfo) => {
    event.dataTransfer.setData(STEP_MIME, type.key);
    event.dataTransfer.setData("text/plain", type.label);
    event.dataTransfer.effectAllowed = "copy";
  };
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.key === "Escape" && onEscape) {
      event.stopPropagation();
      onEscape();
      return;
    }
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    const buttons = Array.from(event.currentTarget.querySelectorAll<HTMLButtonElement>("button[data-step-type]"));
    if (!buttons.length) return;
    event.preventDefault();
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    const next = event.key === "ArrowDown" ? (at + 1) % buttons.length : (at <= 0 ? buttons.length : at) - 1;
    buttons[next]?.focus();
  };
  return (
    <div className="trellis-step-picker" onKeyDown={onKeyDown} role="group" aria-label={label}>
      <Search
        id={`${id}-search`}
        size="sm"
        labelText={`Search ${label.toLowerCase()}`}
        placeholder="Search steps"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        // eslint-disable-next-line jsx-a11y/no-autofocus -- opt-in for menus the user just opened (see the canvas add menu).
        autoFocus={autoFocus}
        closeButtonLabelText="Clear search"
      />
      <div className="trellis-step-picker__groups">
        {groups.length === 0 ? <p className="trellis-step-picker__empty">No step matches.</p> : null}
        {groups.map((group) => (
          <section key={group.kind} aria-labelledby={`${id}-${group.kind}`}>
            <h3
              id={`${id}-${group.kind}`}
              className={`trellis-step-picker__heading trellis-step-picker__heading--${group.kind}`}
            >
              <KindIcon kind={group.kind} />
              {KIND_PLURAL[group.kind]}
            </h3>
            <ul>
              {group.types.map((t) => (
                <li key={t.key}>
                  <button
                    type="button"
                    className={`trellis-step-picker__item trellis-step-picker__item--${t.kind}`}
                    data-step-type={t.key}
                    draggable={draggable}
                    onDragStart={draggable ? (e) => onDragStart(e, t) : undefined}
                    onClick={() => onPick(t)}
                    title={t.description}
                  >
                    <span className="trellis-step-picker__label">{t.label}</span>
                    <span className="trellis-step-picker__group">{t.group}</span>
                  </button>
                </li>
              ))}
            </ul>
          </section>
        ))}
      </div>
    </div>
  );
}
