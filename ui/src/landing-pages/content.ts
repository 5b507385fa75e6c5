/**
 * Small pure helpers of the page editor: the slug made from a name, the form token, and the
 * check the server makes too (a page loads nothing from another host), so that the editor can
 * say so before saving.
 */

export function slugify(name: string): string {
  const slug = name
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 90)
    .replace(/-+$/g, "");
  return slug || "page";
}

export const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$/;

export function formToken(formId: number): string {
  return `{form=${formId}}`;
}

const RESOURCE_ATTR = /\b(src|srcset|poster|data|background)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/gi;
const CSS_URL = /url\(\s*(["']?)([^)"']*)\1\s*\)/gi;

function isRemote(url: string): boolean {
  const value = url.trim().toLowerCase();
  return /^(https?:|\/\/|ftp:|\\\\)/.test(value);
}

/** The first resource in the HTML or CSS that would load from another host, if any. */
export function firstRemoteResource(html: string, css: string): string | null {
  for (const match of html.matchAll(RESOURCE_ATTR)) {
    const value = match[2] ?? match[3] ?? match[4] ?? "";
    const candidates =
      match[1]?.toLowerCase() === "srcset" ? value.split(",").map((c) => c.trim().split(/\s+/)[0] ?? "") : [value];
    const remote = candidates.find(isRemote);
    if (remote) return remote;
  }
  for (const source of [html, css]) {
    for (const match of source.matchAll(CSS_URL)) {
      if (isRemote(match[2] ?? "")) return match[2] ?? "";
    }
  }
  if (/@import\b/i.test(css)) return "@import";
  return null;
}
