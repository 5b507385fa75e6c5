/** Campaign export and import: the calls, and the pure helpers the wizard uses. */
import { api, ok } from "../api/client";
import type { components } from "../api/schema.gen";

/** One thing of a Mautic export that was not translated (path: a JSON pointer into its entity_data.json). */
export type TranslationNote = components["schemas"]["TranslationNote"];
export type ImportAnalysis = components["schemas"]["ImportAnalysis"];
export type EntityAnalysis = components["schemas"]["EntityAnalysis"];
export type ImportResult = components["schemas"]["ImportResult"];
export type CampaignImportRead = components["schemas"]["CampaignImportRead"];
export type Choice = EntityAnalysis["default"];

/** The order and labels of the entity kinds, as the server lists them. */
export const KIND_LABELS: Record<string, string> = {
  project: "Project",
  stage: "Stage",
  custom_field: "Custom field",
  email: "Email",
  segment: "Segment",
  form: "Form",
  page: "Landing page",
  asset: "Asset",
  campaign: "Campaign",
};

export const CHOICE_LABELS: Record<Choice, string> = {
  create: "Create",
  update: "Update the existing one",
  copy: "Import as a copy",
  reuse: "Reuse the existing one",
};

/** The choices the user changed from the analysis' defaults: what the apply call sends. */
export function changedChoices(entities: EntityAnalysis[], chosen: Record<string, Choice>): Record<string, Choice> {
  const out: Record<string, Choice> = {};
  for (const entity of entities) {
    const choice = chosen[entity.uuid];
    if (choice && choice !== entity.default && entity.choices.includes(choice)) out[entity.uuid] = choice;
  }
  return out;
}

/** Where the file comes from, for the review step. */
export function describeOrigin(
  analysis: Pick<ImportAnalysis, "source" | "trellis_version" | "exported_at">,
  filename: string,
): string {
  const when = new Date(analysis.exported_at).toLocaleString();
  if (analysis.source === "mautic") return `${filename}: a Mautic campaign export (${when}), translated for Trellis.`;
  return `${filename}: exported by Trellis ${analysis.trellis_version} on ${when}.`;
}

/** "Email Welcome: ..." lines of the translation report, in the file's order. */
export function noteLines(notes: TranslationNote[] | undefined): string[] {
  return (notes ?? []).map((n) => `${n.name} (${n.path}): ${n.message}`);
}

/** "2 created, 1 updated, 5 reused" for a result. */
export function summarise(result: Pick<ImportResult, "created" | "updated" | "reused">): string {
  const count = (group: Record<string, number[]>) => Object.values(group).reduce((n, ids) => n + ids.length, 0);
  return `${count(result.created)} created, ${count(result.updated)} updated, ${count(result.reused)} reused`;
}

function multipart(file: Blob, filename: string, choices: Record<string, Choice>): FormData {
  const fd = new FormData();
  fd.append("file", file, filename);
  fd.append("choices", JSON.stringify(choices));
  return fd;
}

export async function analyseImport(file: File): Promise<ImportAnalysis> {
  const res = await api.POST("/api/v2/campaigns/import", {
    params: { query: { mode: "analyse" } },
    body: multipart(file, file.name, {}) as never,
  });
  return ok(res) as ImportAnalysis;
}

export async function applyImport(file: File, choices: Record<string, Choice>): Promise<ImportResult> {
  const res = await api.POST("/api/v2/campaigns/import", {
    params: { query: { mode: "apply" } },
    body: multipart(file, file.name, choices) as never,
  });
  return ok(res) as ImportResult;
}

export async function undoImport(importId: number): Promise<CampaignImportRead> {
  return ok(
    await api.POST("/api/v2/campaigns/imports/{import_id}/undo", { params: { path: { import_id: importId } } }),
  );
}

function save(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(url);
}

/** Download the export ZIP of one or several campaigns. */
export async function exportCampaigns(ids: number[]): Promise<void> {
  const [only] = ids;
  if (ids.length === 1 && only !== undefined) {
    const res = await api.GET("/api/v2/campaigns/{campaign_id}/export", {
      params: { path: { campaign_id: only } },
      parseAs: "blob",
    });
    save(ok(res), `campaign-${only}.zip`);
    return;
  }
  const res = await api.POST("/api/v2/campaigns/export", { body: { campaign_ids: ids }, parseAs: "blob" });
  save(ok(res), "campaigns.zip");
}
