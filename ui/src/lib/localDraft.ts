/**
 * Unsaved drafts of the editors, kept in this browser's local storage so a crash or a reload
 * loses nothing. One entry per editor and entity ("campaign:42", "email:new"), with the time it
 * was written; entries older than a week are dropped when read.
 */
const PREFIX = "trellis.draft.";
const MAX_AGE_MS = 7 * 24 * 3600 * 1000;

export interface StoredDraft<T> {
  savedAt: number;
  value: T;
}

export function readDraft<T>(key: string, now: number = Date.now()): StoredDraft<T> | null {
  try {
    const raw = window.localStorage.getItem(PREFIX + key);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as Partial<StoredDraft<T>>;
    if (typeof parsed.savedAt !== "number" || !("value" in parsed)) return null;
    if (now - parsed.savedAt > MAX_AGE_MS) {
      window.localStorage.removeItem(PREFIX + key);
      return null;
    }
    return { savedAt: parsed.savedAt, value: parsed.value as T };
  } catch {
    return null; // storage disabled, or an entry this version cannot read
  }
}

export function writeDraft<T>(key: string, value: T, now: number = Date.now()): void {
  try {
    window.localStorage.setItem(PREFIX + key, JSON.stringify({ savedAt: now, value }));
  } catch {
    // Full or disabled storage: the unsaved-changes prompt still guards in-app navigation.
  }
}

export function clearDraft(key: string): void {
  try {
    window.localStorage.removeItem(PREFIX + key);
  } catch {
    // as above
  }
}
