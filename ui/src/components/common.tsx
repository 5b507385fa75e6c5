import { InlineNotification, Loading } from "@carbon/react";
import { useCallback, useMemo, useState, type ReactNode } from "react";
import { problemToFormErrors, type FormErrors } from "../api/problem";

export function PageHeader({
  title,
  description,
  actions,
}: {
  title: string;
  description?: ReactNode;
  actions?: ReactNode;
}) {
  return (
    <header className="trellis-page-header">
      <div>
        <h1>{title}</h1>
        {description ? <p>{description}</p> : null}
      </div>
      {actions ? <div>{actions}</div> : null}
    </header>
  );
}

export function PageLoading({ label = "Loading" }: { label?: string }) {
  return <Loading withOverlay={false} description={label} small={false} />;
}

/** General (field-less) messages of a failed submit, above the form. */
export function FormMessages({ errors, title = "Could not save" }: { errors: FormErrors; title?: string }) {
  if (errors.general.length === 0) return null;
  return (
    <InlineNotification kind="error" title={title} subtitle={errors.general.join(" ")} hideCloseButton lowContrast />
  );
}

const NO_ERRORS: FormErrors = { fields: {}, general: [] };

/** Form error state fed from API problems: `fieldProps(name)` gives Carbon's invalid props. */
export function useFormErrors(knownFields: readonly string[]) {
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  // Callers often pass a fresh array each render; keyed by content, fromError stays stable.
  const fieldsKey = JSON.stringify(knownFields);
  const fields = useMemo(() => JSON.parse(fieldsKey) as string[], [fieldsKey]);
  const fromError = useCallback(
    (error: unknown) => {
      setErrors(problemToFormErrors(error, fields));
      // Bring the first invalid field into view (it may be scrolled away inside a modal).
      window.requestAnimationFrame(() => {
        document.querySelector<HTMLElement>('[aria-invalid="true"], [data-invalid="true"]')?.focus();
      });
    },
    [fields],
  );
  const clear = useCallback(() => setErrors(NO_ERRORS), []);
  const fieldProps = (name: string) => {
    const message = errors.fields[name];
    return message ? { invalid: true, invalidText: message } : { invalid: false };
  };
  return { errors, fromError, clear, fieldProps };
}

/**
 * Runs `reset` (which sets the form's state) when a dialog opens or its subject changes while
 * open. It runs during render, React's pattern for adjusting state to new props, so the dialog's
 * first frame already shows the reset values; an effect would paint the stale ones first.
 */
export function useResetOnOpen(open: boolean, subject: unknown, reset: () => void) {
  const [seen, setSeen] = useState<{ open: boolean; subject: unknown }>({ open: false, subject });
  if (seen.open !== open || seen.subject !== subject) {
    setSeen({ open, subject });
    if (open) reset();
  }
}

export function formatDateTime(value: string | null | undefined): string {
  if (!value) return "—";
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return value;
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}
