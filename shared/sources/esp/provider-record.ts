import * as z from "zod";
import type { ProviderEvent } from "../../domain/events/normalized-event.ts";

/**
 * The result of mapping one provider record. A record may yield several events (SES fans out per recipient)
 * or none (opens and clicks are not ours); a record that cannot be read yields the reason, and the pipeline
 * quarantines it with that reason instead of dropping it.
 */
export type MappedRecord =
  | { readonly ok: true; readonly events: readonly ProviderEvent[] }
  | { readonly ok: false; readonly reason: string };

export type RecordMapper = (record: unknown) => MappedRecord;

/** A record that cannot be read; its message names the field, e.g. `bounce.bouncedRecipients[1].emailAddress: ...`. */
export class RecordError extends Error {}

/** Runs a mapping that throws RecordError for unreadable records, turning those into `{ok: false, reason}`. */
export function mapRecordSafely(map: () => readonly ProviderEvent[]): MappedRecord {
  try {
    return { ok: true, events: map() };
  } catch (e) {
    if (e instanceof RecordError) return { ok: false, reason: e.message };
    throw e;
  }
}

/** A zod issue path as a field reference: `mail.destination[2]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += out === "" ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

/** ISO 8601 instants as providers write them (offset or Z, optional fraction). */
export const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})$/i;

/** An RFC 3463 enhanced status code, whole. */
export const ENHANCED_STATUS = /^[245]\.\d{1,3}\.\d{1,3}$/;

/** A descriptive string field: kept when it is a non-empty string, null otherwise (absent included). */
export const optionalText = z
  .unknown()
  // zod 4 fails a missing key on a bare transformed unknown: `.optional()` lets absence reach the transform.
  .optional()
  .transform((v) => (typeof v === "string" && v.trim() !== "" ? v.trim() : null));
