import { useQuery } from "@tanstack/react-query";
import { api, ok } from "../api/client";
import type { components } from "../api/schema.gen";

export type Dashboard = components["schemas"]["Dashboard"];
export type Checklist = components["schemas"]["Checklist"];

export const dashboardKey = ["dashboard"] as const;

export function useDashboard() {
  return useQuery({
    queryKey: dashboardKey,
    queryFn: async () => ok(await api.GET("/api/v2/dashboard")),
  });
}

export interface ChecklistStep {
  key: keyof Checklist;
  label: string;
  to: string;
  done: boolean;
}

/** The getting-started steps in the order a new marketer takes them. */
export function checklistSteps(checklist: Checklist): ChecklistStep[] {
  return [
    { key: "contacts", label: "Import your contacts", to: "/contacts/import", done: checklist.contacts },
    { key: "segment", label: "Create a segment", to: "/segments/new", done: checklist.segment },
    { key: "email", label: "Create an email", to: "/emails/new", done: checklist.email },
    { key: "campaign", label: "Build a campaign", to: "/campaigns/new", done: checklist.campaign },
    { key: "published", label: "Publish the campaign", to: "/campaigns", done: checklist.published },
  ];
}

export function percent(part: number, whole: number): string {
  if (whole <= 0) return "–";
  return `${Math.round((part / whole) * 1000) / 10}%`;
}
