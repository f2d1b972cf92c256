import type { ReputationSignal, SignalSource } from "../../domain/reputation/reputation-signal.ts";

/**
 * A reputation source other than the block lists: it reads the provider (or DNS) once and returns what it
 * says now. A provider fault (refused credential, 5xx after retries, malformed answer) throws; the runner
 * records the failure for that source alone and the other sources still run. Days the provider has no data
 * for are `no_data` signals, never zeros.
 */
export interface ReputationSource {
  readonly id: SignalSource;
  collect(now: Date): Promise<ReputationSignal[]>;
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
