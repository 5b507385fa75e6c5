/** API shapes the campaign pages use, read from the generated schema by path. */
import type { ResponseOf } from "../../api/types";
import { RESOURCES } from "../../lib/resources";

type Item<L> = L extends { data: (infer T)[] } ? T : never;

export type CampaignSummary = Item<ResponseOf<"/api/v2/campaigns", "get">>;
export type Campaign = ResponseOf<"/api/v2/campaigns/{campaign_id}", "get">;
export type CampaignStats = ResponseOf<"/api/v2/campaigns/{campaign_id}/stats", "get">;
export type StepCounts = CampaignStats[string];
export type CampaignMember = Item<ResponseOf<"/api/v2/campaigns/{campaign_id}/members", "get">>;
export type CurrentStep = CampaignMember["waiting_on"] extends (infer T)[] | undefined ? T : never;
export type Journey = ResponseOf<"/api/v2/campaigns/{campaign_id}/contacts/{contact_id}/journey", "get">;
export type JourneyStep = Journey["steps"][number];
export type Failure = Item<ResponseOf<"/api/v2/campaigns/{campaign_id}/failures", "get">>;
export type PublishPreview = ResponseOf<"/api/v2/campaigns/{campaign_id}/publish-preview", "get">;
export type ContactCampaign = ResponseOf<"/api/v2/contacts/{contact_id}/campaigns", "get">[number];
export type Notification = Item<ResponseOf<"/api/v2/notifications", "get">>;

/** The permission map's key for campaigns. */
export const CAMPAIGNS = RESOURCES.campaigns;
