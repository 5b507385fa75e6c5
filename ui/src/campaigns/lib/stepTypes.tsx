/**
 * Step types as people read them: "Send email" with the action's icon, not `email.send`. The
 * labels come from GET /api/v2/event-types (cached for the session); a type the server no longer
 * knows shows its key.
 */
import { Flash, Fork, Hourglass } from "@carbon/icons-react";
import { useQuery } from "@tanstack/react-query";
import { api, ok } from "../../api/client";

export const KIND_LABEL: Record<string, string> = { action: "Action", condition: "Condition", decision: "Decision" };

export function KindIcon({ kind, size = 16 }: { kind: string | null; size?: 16 | 20 | 24 }) {
  if (kind === "condition") return <Fork size={size} aria-hidden />;
  if (kind === "decision") return <Hourglass size={size} aria-hidden />;
  return <Flash size={size} aria-hidden />;
}

export function useEventTypes() {
  return useQuery({
    queryKey: ["campaigns", "event-types"],
    queryFn: async () => ok(await api.GET("/api/v2/event-types")),
    staleTime: 5 * 60_000,
  });
}

/** type key -> { label, kind } of every known step type. */
export function useStepTypeIndex(): Map<string, { label: string; kind: string }> {
  const types = useEventTypes();
  return new Map((types.data ?? []).map((t) => [t.key, { label: t.label, kind: t.kind }]));
}

/** The step type's icon and label ("Decision · Opens email"), its key kept for a tooltip. */
export function StepTypeLabel({
  type,
  kind,
  index,
}: {
  type: string;
  kind?: string | null;
  index: Map<string, { label: string; kind: string }>;
}) {
  const known = index.get(type);
  const stepKind = kind ?? known?.kind ?? null;
  return (
    <span className="trellis-step-type" title={type}>
      <KindIcon kind={stepKind} />
      <span>
        {stepKind ? `${KIND_LABEL[stepKind] ?? stepKind} · ` : ""}
        {known?.label ?? type}
      </span>
    </span>
  );
}
