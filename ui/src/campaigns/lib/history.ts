/**
 * Undo/redo of whole documents. Edits of one field in a row (typing a name) share one entry,
 * so undo steps back a change at a time rather than a key stroke at a time.
 */
export interface History<T> {
  past: T[];
  present: T;
  future: T[];
  /** The group of the last entry: a new edit with the same group replaces the present. */
  group: string | null;
}

export const HISTORY_LIMIT = 100;

export function createHistory<T>(present: T): History<T> {
  return { past: [], present, future: [], group: null };
}

export function record<T>(history: History<T>, next: T, group: string | null = null): History<T> {
  if (next === history.present) return history;
  if (group !== null && group === history.group) return { ...history, present: next, future: [] };
  const past = [...history.past, history.present];
  return { past: past.slice(Math.max(0, past.length - HISTORY_LIMIT)), present: next, future: [], group };
}

export function undo<T>(history: History<T>): History<T> {
  const previous = history.past[history.past.length - 1];
  if (previous === undefined) return history;
  return {
    past: history.past.slice(0, -1),
    present: previous,
    future: [history.present, ...history.future],
    group: null,
  };
}

export function redo<T>(history: History<T>): History<T> {
  const [next, ...future] = history.future;
  if (next === undefined) return history;
  return { past: [...history.past, history.present], present: next, future, group: null };
}

/** Replace the present without an undo entry (a save's answer, a reload). */
export function reset<T>(history: History<T>, present: T): History<T> {
  return { ...history, present, group: null };
}
