import type { ReputationSignal, SignalSource } from "../../domain/reputation/reputation-signal.ts";

/**
 * A reputation source other than the block lists: it reads the provider (or DNS) once and returns what it
 * says now. Days the provider has no data for are `no_data` signals, never zeros.
 *
 * Faults are as small as they can be:
 * - a row of an answer that cannot be read (a field missing or of the wrong type) fails that row alone: it is
 *   left out and handed to `rows.badRow`, the rest of the answer is read, and the run counts it;
 * - a provider fault (refused credential, 5xx after retries, an answer that is not the documented shape at
 *   all) throws; what the run had already read is kept by throwing a PartialCollectError holding it. The
 *   runner records the failure for that source alone and the other sources still run.
 */
export interface ReputationSource {
  readonly id: SignalSource;
  collect(now: Date, rows?: BadRowSink): Promise<ReputationSignal[]>;
}

/** One row of a provider's answer left out because it could not be read. */
export interface BadRow {
  /** Where in the answer: "engagementquality/scores result[3]", "data.aspx row 7". */
  readonly where: string;
  /** Why, as the parser said it (no secrets: sources never put keys or bodies here). */
  readonly reason: string;
}

export interface BadRowSink {
  badRow(row: BadRow): void;
}

/** A sink that drops what it is given, for callers that do not count bad rows. */
export const IGNORE_BAD_ROWS: BadRowSink = { badRow: () => undefined };

/**
 * A source failed part-way: `signals` is what it read before the fault (the SendGrid account reputation before
 * the Engagement Quality request failed, the domains Postmaster answered before one it refused). The run is
 * recorded as failed, with these values kept.
 */
export class PartialCollectError extends Error {
  override readonly name = "PartialCollectError";
  constructor(
    readonly fault: unknown,
    readonly signals: readonly ReputationSignal[],
  ) {
    super(fault instanceof Error ? fault.message : String(fault), { cause: fault });
  }
}

/** Runs `step`; when it throws, rethrows with `kept` (and any signals a nested partial failure kept) attached. */
export async function keepingSignals<T>(
  kept: readonly ReputationSignal[],
  step: () => Promise<T>,
): Promise<T> {
  try {
    return await step();
  } catch (e) {
    if (kept.length === 0 && !(e instanceof PartialCollectError)) throw e;
    const inner = e instanceof PartialCollectError ? e.signals : [];
    throw new PartialCollectError(e instanceof PartialCollectError ? e.fault : e, [...kept, ...inner]);
  }
}

/** A source's `lookbackDays` option, checked: an integer from 1 to `max`. */
export function lookbackDaysOption(
  value: number | undefined,
  fallback: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const days = value ?? fallback;
  if (!Number.isInteger(days) || days < 1 || days > max) {
    throw new RangeError(
      `lookbackDays must be an integer in [1, ${max === Number.MAX_SAFE_INTEGER ? "∞" : max}], got ${value}`,
    );
  }
  return days;
}

/** A zod failure as a bad-row reason: each issue's field and message, no values. */
export function issuesText(error: {
  readonly issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>;
}): string {
  return error.issues.map((i) => `${i.path.map(String).join(".") || "(row)"}: ${i.message}`).join("; ");
}
