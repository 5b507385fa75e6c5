import { ToastNotification } from "@carbon/react";
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";

export type ToastKind = "success" | "error" | "info" | "warning";

interface Toast {
  id: number;
  kind: ToastKind;
  title: string;
  subtitle?: string;
}

interface ToastApi {
  notify: (kind: ToastKind, title: string, subtitle?: string) => void;
}

const ToastContext = createContext<ToastApi | null>(null);
let nextId = 1;

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const dismiss = useCallback((id: number) => setToasts((all) => all.filter((t) => t.id !== id)), []);
  const notify = useCallback((kind: ToastKind, title: string, subtitle?: string) => {
    const toast: Toast = { id: nextId++, kind, title };
    if (subtitle !== undefined) toast.subtitle = subtitle;
    setToasts((all) => [...all.slice(-3), toast]);
  }, []);
  const api = useMemo(() => ({ notify }), [notify]);
  return (
    <ToastContext.Provider value={api}>
      {children}
      <div className="trellis-toasts" aria-live="polite">
        {toasts.map((t) => (
          <ToastNotification
            key={t.id}
            kind={t.kind}
            title={t.title}
            subtitle={t.subtitle}
            timeout={t.kind === "error" ? 0 : 5000}
            onClose={() => {
              dismiss(t.id);
              return false;
            }}
            onCloseButtonClick={() => dismiss(t.id)}
          />
        ))}
      </div>
    </ToastContext.Provider>
  );
}

export function useToast(): ToastApi {
  const ctx = useContext(ToastContext);
  if (!ctx) throw new Error("useToast outside ToastProvider");
  return ctx;
}
