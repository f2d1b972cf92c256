import * as z from "zod";

/** Reputation sources other than block lists, each an adapter in shared/sources/reputation/. */
export const SIGNAL_SOURCES = ["postmaster", "snds", "ses", "sendgrid", "sparkpost", "auth"] as const;
export type SignalSource = (typeof SIGNAL_SOURCES)[number];

/**
 * What one value says about the sender:
 * - `bad`: a sender-side problem by the provider's own published threshold (a RED SNDS day, SES under review,
 *   a missing DMARC record, a Postmaster spam rate at or above 0.3%);
 * - `warning`: past a documented warning level but not yet bad;
 * - `good`: within the provider's healthy range;
 * - `no_data`: the provider reports nothing for the day (below its volume floor): neither good nor bad;
 * - `unknown`: there was an answer but it cannot be read as any of the above.
 */
export const SignalStatusSchema = z.enum(["good", "warning", "bad", "no_data", "unknown"]);
export type SignalStatus = z.infer<typeof SignalStatusSchema>;

/** One reputation value from a provider or from DNS, as stored under reputation/ and shown in reports. */
export const ReputationSignalSchema = z.object({
  source: z.enum(SIGNAL_SOURCES),
  /** What the value is about: a sending domain, a sending IP, or an ESP account ("ses:eu-west-1"). */
  subject: z.string().min(1),
  subjectKind: z.enum(["ip", "domain", "account"]),
  /** Stable metric name within the source: "spam_rate", "delivery_error_rate:ip_in_rbls", "filter_result", "dmarc". */
  metric: z.string().min(1),
  status: SignalStatusSchema,
  /** The provider's value: a rate in [0, 1], a count, a score, or a category ("RED", "PROBATION", "p=reject"). */
  value: z.union([z.number(), z.string(), z.null()]),
  /** The day a daily value describes (UTC); null for a current-state snapshot. */
  day: z.iso.date().nullable(),
  /** One human sentence with the number and the threshold it was judged against. */
  detail: z.string(),
  observedAt: z.iso.datetime(),
});
export type ReputationSignal = z.infer<typeof ReputationSignalSchema>;

/**
 * One run of one signal source, stored at reputation/source={source}/dt={day}/run-{hour}.json. A failed run
 * is stored too (the error, and the values read before the fault), so reports can say a source is down
 * instead of showing it clean.
 */
export const SignalBatchSchema = z.object({
  source: z.enum(SIGNAL_SOURCES),
  observedAt: z.iso.datetime(),
  outcome: z.enum(["ok", "failed"]),
  /** The failure, secrets redacted; null when ok. */
  error: z.string().nullable(),
  signals: z.array(ReputationSignalSchema),
  /** Rows of the provider's answer left out because they could not be read (the first 50), with why. */
  badRows: z.array(z.object({ where: z.string(), reason: z.string() })).optional(),
  /** How many rows were left out in all; absent when none. */
  badRowCount: z.number().int().nonnegative().optional(),
});
export type SignalBatch = z.infer<typeof SignalBatchSchema>;

const RANK: Readonly<Record<SignalStatus, number>> = { bad: 0, warning: 1, unknown: 2, no_data: 3, good: 4 };

/** The latest signal per (source, subject, metric), worst first. */
export function latestSignals(all: readonly ReputationSignal[]): ReputationSignal[] {
  const latest = new Map<string, ReputationSignal>();
  for (const s of all) {
    const key = `${s.source}\u0000${s.subject}\u0000${s.metric}`;
    const prev = latest.get(key);
    if (!prev || signalTime(prev) < signalTime(s)) latest.set(key, s);
  }
  return [...latest.values()].sort(
    (a, b) =>
      RANK[a.status] - RANK[b.status] ||
      a.source.localeCompare(b.source) ||
      a.subject.localeCompare(b.subject) ||
      a.metric.localeCompare(b.metric),
  );
}

/** Daily values order by their day, snapshots by when they were observed. */
function signalTime(s: ReputationSignal): string {
  return `${s.day ?? s.observedAt.slice(0, 10)}\u0000${s.observedAt}`;
}
