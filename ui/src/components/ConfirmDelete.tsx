import { Modal } from "@carbon/react";
import { useState } from "react";
import { describeError } from "../api/problem";

/** A danger modal that runs `onConfirm` and shows its failure in place. */
export function ConfirmDelete({
  open,
  title,
  body,
  confirmLabel = "Delete",
  onConfirm,
  onClose,
}: {
  open: boolean;
  title: string;
  body: string;
  confirmLabel?: string;
  onConfirm: () => Promise<unknown>;
  onClose: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function confirm() {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      onClose();
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  }
  return (
    <Modal
      open={open}
      danger
      size="sm"
      modalHeading={title}
      primaryButtonText={busy ? "Working…" : confirmLabel}
      primaryButtonDisabled={busy}
      secondaryButtonText="Cancel"
      onRequestClose={() => {
        setError(null);
        onClose();
      }}
      onRequestSubmit={() => void confirm()}
    >
      <p>{body}</p>
      {error ? (
        <p role="alert" className="cds--form-requirement" style={{ display: "block", color: "var(--cds-text-error)" }}>
          {error}
        </p>
      ) : null}
    </Modal>
  );
}
