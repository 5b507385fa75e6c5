/** Event types as GET /api/v2/event-types returns them, trimmed to what the tests use. */
import type { CampaignDoc, EventTypeInfo } from "../canvas/types";

function type(key: string, kind: string, label: string, extra: Partial<EventTypeInfo> = {}): EventTypeInfo {
  return {
    key,
    kind,
    label,
    description: "",
    group: "Contact",
    leaf: false,
    external: false,
    jumps: false,
    parent_types: [],
    behaviour: null,
    schema: { type: "object", properties: {} },
    ...extra,
  };
}

export const TYPES: EventTypeInfo[] = [
  type("contact.change_points", "action", "Change points", {
    schema: {
      type: "object",
      properties: { delta: { type: "integer", title: "Delta", minimum: -1000000, maximum: 1000000 } },
      required: ["delta"],
    },
  }),
  type("contact.change_tags", "action", "Change tags", {
    schema: {
      type: "object",
      properties: {
        add: { type: "array", default: [], items: { type: "string" } },
        remove: { type: "array", default: [], items: { type: "string" } },
      },
    },
  }),
  type("contact.delete", "action", "Delete contact", { leaf: true }),
  type("campaign.jump_to_event", "action", "Jump to step", {
    leaf: true,
    jumps: true,
    schema: { type: "object", properties: { target: { type: "string", title: "Target" } }, required: ["target"] },
  }),
  type("contact.tags", "condition", "Has tags"),
  type("condition.random_split", "condition", "Random split", {
    group: "Logic",
    schema: {
      type: "object",
      properties: { weights: { type: "array", default: [50, 50], items: { type: "integer" } } },
    },
  }),
  type("contact.performs_event", "decision", "Contact performs event", { group: "Behaviour" }),
  type("email.open", "decision", "Opens email", { parent_types: ["email.send"] }),
  type("email.send", "action", "Send email"),
];

/** Segment source -> condition -> action on yes, decision on no -> action on its timed no. */
export function sampleDoc(): CampaignDoc {
  return {
    name: "Welcome",
    sources: [{ kind: "segment", id: 1, audience: "live" }],
    events: [
      { key: "cond", type: "contact.tags", config: {}, timing: { mode: "immediate" } },
      { key: "yes1", type: "contact.change_points", config: { delta: 5 }, timing: { mode: "immediate" } },
      { key: "dec", type: "contact.performs_event", config: { name: "trial" }, timing: { mode: "immediate" } },
      { key: "late", type: "contact.change_tags", config: {}, timing: { mode: "interval", amount: 2, unit: "day" } },
    ],
    edges: [
      { source: null, target: "cond", path: null },
      { source: "cond", target: "yes1", path: "yes" },
      { source: "cond", target: "dec", path: "no" },
      { source: "dec", target: "late", path: "no" },
    ],
    canvas: { nodes: {} },
  };
}
