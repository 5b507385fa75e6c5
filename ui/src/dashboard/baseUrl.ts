/** Why links in emails and embed codes would not reach this server, as the browser sees it:
 * null when the configured base URL has the browser's origin (scheme, host and port). */
export function baseUrlMismatch(baseUrl: string, browserOrigin: string): string | null {
  let configured: URL;
  try {
    configured = new URL(baseUrl);
  } catch {
    return `The base URL "${baseUrl}" is not a valid address.`;
  }
  if (configured.origin === browserOrigin) return null;
  return `Links in emails and embed codes point to ${configured.origin}, but you are using ${browserOrigin}.`;
}
