import { InlineNotification, Loading } from "@carbon/react";
import { useCallback, useState, type ReactNode } from "react";
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
  const fromError = useCallback(
    (error: unknown) => {
      setErrors(problemToFormErrors(error, knownFields));
      // Bring the first invalid field into view (it may be scrolled away inside a modal).
      window.requestAnimationFrame(() => {
        document.querySelector<HTMLElement>('[aria-invalid="true"], [data-invalid="true"]')?.focus();
      });
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [knownFields.join("|")],
  );
  const clear = useCallback(() => setErrors(NO_ERRORS), []);
  const fieldProps = (name: string) => {
    const message = errors.fields[name];
    return message ? { invalid: true, invalidText: message } : { invalid: false };
  };
  return { errors, fromError, clear, fieldProps };
}

export function formatDateTime(value: string | null | undefined): string {
  if (!value) return "—";
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return value;
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}
