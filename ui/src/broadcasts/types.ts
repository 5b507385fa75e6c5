/** The broadcast API's shapes, read from the generated schema. */
import type { RequestOf, ResponseOf } from "../api/types";

type Item<L> = L extends { data: (infer T)[] } ? T : never;

export type Broadcast = ResponseOf<"/api/v2/broadcasts/{broadcast_id}", "get">;
export type BroadcastCreate = RequestOf<"/api/v2/broadcasts", "post">;
export type BroadcastUpdate = RequestOf<"/api/v2/broadcasts/{broadcast_id}", "patch">;
export type Recipient = Item<ResponseOf<"/api/v2/broadcasts/{broadcast_id}/recipients", "get">>;
export type BroadcastStatus = Broadcast["status"];
export type RecipientStatus = Recipient["status"];
export type AudienceMode = Broadcast["audience_mode"];
export type OverCap = Broadcast["over_cap"];
