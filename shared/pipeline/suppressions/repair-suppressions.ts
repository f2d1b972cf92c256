import type { SuppressionCandidate } from "../../domain/suppressions/wrongly-suppressed.ts";
import type {
  ReactivationOutcome,
  SuppressionReactivator,
} from "../../sources/esp/suppression-reactivator.ts";
import { keys, utcDate } from "../../store/keys.ts";
import type { ObjectStore } from "../../store/object-store.ts";

/** One change (or attempt) at an ESP, as written to audit/. */
export interface AuditRecord {
  readonly at: string;
  readonly incident: string;
  readonly report: string;
  readonly provider: string;
  readonly source: string;
  readonly address: string;
  readonly organisation: string;
  readonly lastBounceEventId: string;
  readonly why: string;
  readonly endpoint: string;
  readonly status: ReactivationOutcome["status"] | "unsupported";
  readonly httpStatus: number | null;
  readonly detail: string;
}

export interface RepairDeps {
  readonly store: ObjectStore;
  readonly now: () => Date;
  readonly log: (line: string) => void;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface RepairOptions {
  readonly incidentId: string;
  readonly reportKey: string;
  /** ESP calls per second at most, across providers (default 2). */
  readonly ratePerSecond?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface RepairResult {
  readonly auditKey: string;
  readonly records: readonly AuditRecord[];
  readonly reactivated: number;
  readonly failed: number;
}

/**
 * Re-activates each address at every configured account of the ESP that suppressed it, one call at a time
 * under a rate limit. Every call is audited, and the audit object is rewritten after each one, so a run cut
 * short still says what it changed. An address whose ESP has no reactivator is audited as unsupported.
 */
export async function repairSuppressions(
  candidates: ReadonlyArray<SuppressionCandidate & { readonly why: string }>,
  reactivators: readonly SuppressionReactivator[],
  options: RepairOptions,
  deps: RepairDeps,
): Promise<RepairResult> {
  const started = deps.now();
  const stamp = started
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  const auditKey = keys.audit(utcDate(started), `suppressions-${options.incidentId}-${stamp}.ndjson`);
  const interval = 1000 / Math.max(0.01, options.ratePerSecond ?? 2);
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const records: AuditRecord[] = [];
  let lastCall = Number.NEGATIVE_INFINITY;
  const write = () =>
    deps.store.put(auditKey, records.map((r) => `${JSON.stringify(r)}\n`).join(""), {
      contentType: "application/x-ndjson",
    });

  for (const [i, c] of candidates.entries()) {
    const base = {
      incident: options.incidentId,
      report: options.reportKey,
      provider: c.provider,
      address: c.address,
      organisation: c.organisation,
      lastBounceEventId: c.lastBounce.eventId,
      why: c.why,
    };
    const mine = reactivators.filter((r) => r.provider === c.provider);
    if (mine.length === 0) {
      records.push({
        ...base,
        at: deps.now().toISOString(),
        source: "-",
        endpoint: "-",
        status: "unsupported",
        httpStatus: null,
        detail: `no configured ${c.provider} source can re-activate addresses: do it in the ESP's console`,
      });
      deps.log(`suppressions: ${c.provider} has no configured source to re-activate through`);
    }
    for (const r of mine) {
      const wait = lastCall + interval - Date.now();
      if (wait > 0) await sleep(wait);
      lastCall = Date.now();
      const outcomes = await r.reactivate(c);
      for (const o of outcomes)
        records.push({ ...base, at: deps.now().toISOString(), source: r.label, ...o });
    }
    await write();
    options.onProgress?.(i + 1, candidates.length);
  }
  if (records.length === 0) await write();
  return {
    auditKey,
    records,
    reactivated: records.filter((r) => r.status === "reactivated").length,
    failed: records.filter((r) => r.status === "failed").length,
  };
}
