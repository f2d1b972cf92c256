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
