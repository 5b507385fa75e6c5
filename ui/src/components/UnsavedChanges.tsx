/**
 * Nothing lost: a page with unsaved changes asks before the visitor leaves it (a link, the side
 * menu, the back button: the router's blocker; a reload or closing the tab: `beforeunload`), and
 * keeps a draft in local storage that the next visit offers to restore after a crash or reload.
 */
import { Button, InlineNotification, Modal } from "@carbon/react";
import { useEffect, useState } from "react";
import { NavigationType, useBlocker } from "react-router-dom";
import { clearDraft, readDraft, writeDraft, type StoredDraft } from "../lib/localDraft";

/** Ask before leaving while `dirty`. Render it once in the page. */
export function UnsavedChangesPrompt({ dirty, what = "changes" }: { dirty: boolean; what?: string }) {
  useEffect(() => {
    if (!dirty) return;
    const warn = (event: BeforeUnloadEvent) => event.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty]);
  // Only leaving the page counts: a save that replaces /new by /42 stays on it.
  const blocker = useBlocker(
    ({ currentLocation, nextLocation, historyAction }) =>
      dirty && historyAction !== NavigationType.Replace && currentLocation.pathname !== nextLocation.pathname,
  );
  return (
    <Modal
      open={blocker.state === "blocked"}
      danger
      modalHeading="Leave without saving?"
      primaryButtonText="Leave"
      secondaryButtonText="Stay"
      onRequestClose={() => blocker.reset?.()}
      onRequestSubmit={() => blocker.proceed?.()}
    >
      <p>Your unsaved {what} will be lost. A copy stays in this browser until you discard it.</p>
    </Modal>
  );
}

/**
 * Keep `value` in local storage under `key` while `dirty` (written half a second after the last
 * change), and forget it once saved. `restore` receives a stored draft when the visitor asks.
 */
export function useLocalDraft<T>(key: string | null, value: T, dirty: boolean) {
  const [offered, setOffered] = useState<StoredDraft<T> | null>(() => (key ? readDraft<T>(key) : null));
  const [lastKey, setLastKey] = useState(key);
  if (key !== lastKey) {
    // Within one editor the key changes when a new entity is first saved: /new became /42.
    if (lastKey) clearDraft(lastKey);
    setLastKey(key);
    setOffered(null);
  }
  useEffect(() => {
    if (!key || offered) return;
    if (!dirty) {
      clearDraft(key);
      return;
    }
    const timer = window.setTimeout(() => writeDraft(key, value), 500);
    return () => window.clearTimeout(timer);
  }, [key, value, dirty, offered]);
  return {
    offered,
    /** The stored draft was taken (restored) or dropped: autosave resumes. */
    settle(discard: boolean) {
      if (discard && key) clearDraft(key);
      setOffered(null);
    },
  };
}

/** "Restore the unsaved draft of 12:03?" above an editor. */
export function RestoreDraftBanner<T>({
  draft,
  onRestore,
  onDiscard,
}: {
  draft: StoredDraft<T> | null;
  onRestore: (value: T) => void;
  onDiscard: () => void;
}) {
  if (!draft) return null;
  const when = new Date(draft.savedAt).toLocaleString();
  return (
    <InlineNotification
      kind="info"
      lowContrast
      hideCloseButton
      title="Unsaved changes found"
      subtitle={`This browser kept the changes you had not saved (${when}).`}
      className="trellis-restore-draft"
    >
      <div className="trellis-restore-draft__actions">
        <Button size="sm" kind="primary" onClick={() => onRestore(draft.value)}>
          Restore them
        </Button>
        <Button size="sm" kind="ghost" onClick={onDiscard}>
          Discard
        </Button>
      </div>
    </InlineNotification>
  );
}
