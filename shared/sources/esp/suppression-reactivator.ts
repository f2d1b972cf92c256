import type { Source } from "../../domain/events/normalized-event.ts";
import type { SuppressionCandidate } from "../../domain/suppressions/wrongly-suppressed.ts";

/** What one call to an ESP did for one address. */
export interface ReactivationOutcome {
  /** Method and path, never a key: "DELETE /v3/mg.example.com/bounces/{address}". */
  readonly endpoint: string;
  /**
   * reactivated: the ESP removed it from its suppression list; not_suppressed: it was not there (404), which is
   * also what a retry after a lost answer sees; refused: the ESP will not (Postmark's CanActivate false);
   * failed: an error, with its detail.
   */
  readonly status: "reactivated" | "not_suppressed" | "refused" | "failed";
  readonly httpStatus: number | null;
  readonly detail: string;
}

/** Takes an address off one ESP account's suppression list. */
export interface SuppressionReactivator {
  readonly provider: Source;
  /** The configured source it acts for ("mailgun-eu"). */
  readonly label: string;
  /** One or more calls (SendGrid keeps bounces and blocks apart); each call is made once. */
  reactivate(candidate: SuppressionCandidate): Promise<ReactivationOutcome[]>;
}

/** The HTTP status of a ProviderFetchError-like error, or null. */
export function statusOf(e: unknown): number | null {
  const s = (e as { status?: unknown }).status;
  return typeof s === "number" ? s : null;
}
