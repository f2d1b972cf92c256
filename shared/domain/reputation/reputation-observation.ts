import * as z from "zod";

/** One block-list check of one sending IP or domain, as stored under reputation/ and shown in reports. */
export const ReputationObservationSchema = z.object({
  source: z.literal("dnsbl"),
  list: z.string(),
  zone: z.string(),
  target: z.string(),
  targetKind: z.enum(["ip", "domain"]),
  status: z.enum(["listed", "clean", "unknown"]),
  codes: z.array(z.string()),
  meaning: z.string(),
  /** The list's TXT record for a listing (a reason or a lookup URL). */
  reason: z.string().nullable(),
  observedAt: z.iso.datetime(),
});
export type ReputationObservation = z.infer<typeof ReputationObservationSchema>;

export const ReputationBatchSchema = z.object({
  observedAt: z.iso.datetime(),
  /** A run that could not check at all (its key secret missing, say) is stored as failed, with no observations. */
  outcome: z.enum(["ok", "failed"]).default("ok"),
  error: z.string().nullable().default(null),
  observations: z.array(ReputationObservationSchema),
});

/** The latest observation per list and target. */
export function latestObservations(all: readonly ReputationObservation[]): ReputationObservation[] {
  const latest = new Map<string, ReputationObservation>();
  for (const o of all) {
    const key = `${o.list}\u0000${o.target}`;
    const prev = latest.get(key);
    if (!prev || prev.observedAt < o.observedAt) latest.set(key, o);
  }
  return [...latest.values()].sort(
    (a, b) =>
      statusRank(a.status) - statusRank(b.status) ||
      a.target.localeCompare(b.target) ||
      a.list.localeCompare(b.list),
  );
}

function statusRank(s: ReputationObservation["status"]): number {
  return s === "listed" ? 0 : s === "unknown" ? 1 : 2;
}
