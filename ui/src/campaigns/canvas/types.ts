/**
 * The campaign document as the canvas and builder handle it, derived from the generated API
 * schema so a backend change shows up here as a type error.
 */
import type { components } from "../../api/schema.gen";

type S = components["schemas"];

export type TimingDoc = S["TimingDoc"];
export type SourceDoc = S["SourceDoc"];
export type EdgeDoc = S["EdgeDoc"];
export type EventTypeInfo = S["EventTypeRead"];
export type CampaignRead = S["CampaignRead"];
export type CampaignSave = S["CampaignSave"];
export type StepCountsRead = S["EventStatsRead"];

/**
 * One step. Accepts both the write shape (EventDoc) and the read shape (EventRead, which adds
 * id, kind and timing_label and types timing loosely), so a document fetched from the API can be
 * handed to the canvas as it is.
 */
export interface StepDoc {
  key: string;
  type: string;
  name?: string;
  description?: string;
  config?: Record<string, unknown>;
  timing?: Partial<TimingDoc> | Record<string, unknown>;
  id?: number;
  kind?: string;
  timing_label?: string;
}

/** The campaign document: what GET /api/v2/campaigns/{id} returns, or a new draft. */
export interface CampaignDoc {
  id?: number;
  uuid?: string;
  version?: number;
  is_published?: boolean;
  name: string;
  description?: string;
  projects?: number[];
  publish_up?: string | null;
  publish_down?: string | null;
  allow_restart?: boolean;
  reactivation?: string;
  exit_on_source_leave?: boolean;
  default_timezone?: string | null;
  sources: SourceDoc[];
  events: StepDoc[];
  edges: EdgeDoc[];
  canvas: Record<string, unknown>;
  members?: number;
  paused_reason?: string | null;
}
