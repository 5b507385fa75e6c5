/**
 * The contacts list's bulk actions, sent to `POST /api/v2/contacts/bulk` in requests of at most
 * BULK_LIMIT ids each, and the one summary a toast shows for all of them.
 */
import type { RequestOf, ResponseOf } from "../api/types";

export type BulkRequest = RequestOf<"/api/v2/contacts/bulk", "post">;
export type BulkResponse = ResponseOf<"/api/v2/contacts/bulk", "post">;
export type BulkActionName = BulkRequest["action"];

/** The most ids the endpoint takes in one request. */
export const BULK_LIMIT = 1000;

/** `ids` in order, in consecutive slices of at most `size`. */
export function chunk<T>(ids: readonly T[], size: number = BULK_LIMIT): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`chunk size must be a positive integer, not ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < ids.length; i += size) out.push(ids.slice(i, i + size));
  return out;
}

export interface BulkOutcome {
  /** Contacts the server changed (or deleted). */
  affected: number;
  /** Ids the server did not find (deleted meanwhile, or never there). */
  missing: number[];
  /** Ids the user may see but not change: the server left them as they were. */
  refused: number[];
  /** Ids of the requests that were not done: the failed one and those after it. */
  notDone: number[];
  /** The failure that stopped the run, if any. */
  error: unknown;
}

/**
 * Send the action for `ids` (duplicates dropped), one request per BULK_LIMIT ids, one after the
 * other. The first failure stops the run: what followed is reported in `notDone`, not sent, so
 * a refused permission or a validation error is not repeated once per slice.
 */
export async function runBulk(
  ids: Iterable<number>,
  body: Omit<BulkRequest, "contact_ids">,
  send: (body: BulkRequest) => Promise<BulkResponse>,
  size: number = BULK_LIMIT,
): Promise<BulkOutcome> {
  const outcome: BulkOutcome = { affected: 0, missing: [], refused: [], notDone: [], error: undefined };
  const slices = chunk([...new Set(ids)], size);
  for (let i = 0; i < slices.length; i++) {
    const slice = slices[i]!;
    try {
      const result = await send({ ...body, contact_ids: slice });
      outcome.affected += result.affected;
      outcome.missing.push(...(result.missing ?? []));
      outcome.refused.push(...(result.refused ?? []));
    } catch (e) {
      outcome.error = e;
      outcome.notDone = slices.slice(i).flat();
      break;
    }
  }
  return outcome;
}

const DONE: Record<BulkActionName, string> = {
  add_tags: "Tags added to",
  remove_tags: "Tags removed from",
  delete: "Deleted",
  add_dnc: "Do not contact (email) set for",
  remove_dnc: "Contact by email allowed for",
};

/** "1 contact", "3 contacts". */
export function contactCount(n: number): string {
  return `${n.toLocaleString()} ${n === 1 ? "contact" : "contacts"}`;
}

/** The success toast's title for a run that changed `affected` contacts. */
export function bulkDoneTitle(action: BulkActionName, affected: number): string {
  return `${DONE[action]} ${contactCount(affected)}`;
}

/** The note on ids the server did not find, or null when it found them all. */
export function missingNote(missing: readonly number[]): string | null {
  if (missing.length === 0) return null;
  const shown = missing
    .slice(0, 5)
    .map((id) => `#${id}`)
    .join(", ");
  const more = missing.length > 5 ? ` and ${missing.length - 5} more` : "";
  return `${contactCount(missing.length)} no longer exist${missing.length === 1 ? "s" : ""} (${shown}${more}).`;
}

/** The note on ids the user may not change, or null when there are none. */
export function refusedNote(refused: readonly number[]): string | null {
  if (refused.length === 0) return null;
  return `${contactCount(refused.length)} left as ${refused.length === 1 ? "it was" : "they were"}: you may see but not change ${refused.length === 1 ? "it" : "them"}.`;
}
