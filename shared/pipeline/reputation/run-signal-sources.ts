import type { SignalBatch } from "../../domain/reputation/reputation-signal.ts";
import { safeLine } from "../../domain/text/safe-text.ts";
import {
  type BadRow,
  PartialCollectError,
  type ReputationSource,
} from "../../sources/reputation/reputation-source.ts";
import { keys, utcDate } from "../../store/keys.ts";
import type { ObjectStore } from "../../store/object-store.ts";

export interface SignalSourceRun {
  readonly source: string;
  readonly key: string;
  readonly outcome: "ok" | "failed";
  readonly error: string | null;
  readonly signals: number;
  readonly bad: number;
  readonly noData: number;
  /** Rows of the providers' answers left out because they could not be read. */
  readonly badRows: number;
}

export interface SignalRunDeps {
  readonly store: ObjectStore;
  readonly now: () => Date;
  readonly log: (line: string) => void;
}

/** The batch key of one run: one per source and hour, so a re-run of the hour rewrites it. */
export function reputationRunKey(source: string, at: Date): string {
  return keys.reputation(source, utcDate(at), `run-${at.toISOString().slice(0, 13).replace(/[-:T]/g, "")}`);
}

/** Bad rows kept in a batch with their reasons; beyond this only the count grows. */
const MAX_BAD_ROWS_KEPT = 50;

/**
 * Runs each source on its own: one failing (a refused key, a provider down) is logged and stored as a failed
 * batch, and the others still run and store their signals. A source that failed part-way keeps what it had
 * read in its failed batch; a row it could not read is left out, counted and stored with its reason, and
 * fails nothing else. Sources run one after another: each is a handful of requests, and a parallel burst
 * would only meet the providers' rate limits sooner.
 */
export async function runSignalSources(
  sources: readonly ReputationSource[],
  deps: SignalRunDeps,
): Promise<SignalSourceRun[]> {
  const runs: SignalSourceRun[] = [];
  for (const source of sources) {
    const now = deps.now();
    const observedAt = now.toISOString();
    const badRows: BadRow[] = [];
    let badRowCount = 0;
    const sink = {
      badRow: (row: BadRow) => {
        badRowCount++;
        if (badRows.length < MAX_BAD_ROWS_KEPT) badRows.push({ where: row.where, reason: row.reason });
      },
    };
    let batch: SignalBatch;
    try {
      const signals = await source.collect(now, sink);
      batch = { source: source.id, observedAt, outcome: "ok", error: null, signals };
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      const kept = e instanceof PartialCollectError ? [...e.signals] : [];
      batch = { source: source.id, observedAt, outcome: "failed", error, signals: kept };
    }
    if (badRowCount > 0) batch = { ...batch, badRows, badRowCount };
    const key = reputationRunKey(source.id, now);
    await deps.store.put(key, `${JSON.stringify(batch, null, 2)}\n`, { contentType: "application/json" });
    const bad = batch.signals.filter((s) => s.status === "bad");
    const noData = batch.signals.filter((s) => s.status === "no_data").length;
    if (batch.outcome === "failed") {
      deps.log(
        `reputation: ${source.id} FAILED: ${batch.error}${batch.signals.length > 0 ? ` (${batch.signals.length} value(s) read before it kept)` : ""}`,
      );
    } else {
      deps.log(
        `reputation: ${source.id}: ${batch.signals.length} value(s), ${bad.length} bad, ${noData} without data → ${key}`,
      );
      for (const s of bad) deps.log(`reputation: BAD ${s.source} ${s.subject} ${s.metric}: ${s.detail}`);
    }
    if (badRowCount > 0) {
      deps.log(`reputation: ${source.id}: ${badRowCount} row(s) of the answer could not be read, left out`);
      for (const r of badRows)
        deps.log(`reputation: BAD ROW ${source.id} ${safeLine(r.where)}: ${safeLine(r.reason)}`);
    }
    runs.push({
      source: source.id,
      key,
      outcome: batch.outcome,
      error: batch.error,
      signals: batch.signals.length,
      bad: bad.length,
      noData,
      badRows: badRowCount,
    });
  }
  return runs;
}
