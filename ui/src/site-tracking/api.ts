/** Website tracking through the generated client: a contact's page visits. */
import { api, ok } from "../api/client";
import type { components } from "../api/schema.gen";

export type PageHit = components["schemas"]["PageHitRead"];

export const webKey = ["web"] as const;

const paging = (page: number, size: number) => ({ "page[number]": page, "page[size]": size });

export const webApi = {
  contactHits: async (contactId: number, page: number, size: number) =>
    ok(
      await api.GET("/api/v2/contacts/{contact_id}/page-hits", {
        params: { path: { contact_id: contactId }, query: paging(page, size) },
      }),
    ),
};

/** The snippet a site embeds: the script of this Trellis server, with the chosen options. */
export function embedSnippet(origin: string, site: string, consentRequired: boolean): string {
  const attrs = [`src="${origin.replace(/\/+$/, "")}/t/w.js"`];
  const cleanSite = site.replace(/[^A-Za-z0-9._-]/g, "").slice(0, 100);
  if (cleanSite) attrs.push(`data-site="${cleanSite}"`);
  if (consentRequired) attrs.push(`data-consent="required"`);
  attrs.push("async");
  return `<script ${attrs.join(" ")}></script>`;
}
