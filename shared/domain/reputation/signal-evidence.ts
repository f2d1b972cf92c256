import type { ReputationSignal, SignalStatus } from "./reputation-signal.ts";

const DAY_MS = 86_400_000;
/** Daily sources report with a lag (SNDS is read two days back, Postmaster one): a value this many days before the window still describes it. */
const DAILY_LAG_DAYS = 2;
const SEVERITY: Readonly<Record<SignalStatus, number>> = {
  good: 0,
  warning: 1,
  bad: 2,
  no_data: -1,
  unknown: -1,
};

export interface SignalReading {
  /** bad in the window with nothing better before it to compare: sender-side evidence. */
  readonly bad: ReputationSignal[];
  /** bad in the window and already bad before it: a standing problem, weak evidence for a sudden spike. */
  readonly persistent: ReputationSignal[];
  /** Worse than the same value before the window (good → warning, warning → bad): a reputation drop. */
  readonly drops: Array<{ readonly signal: ReputationSignal; readonly before: ReputationSignal }>;
  /** warning in the window with no earlier value to compare. */
  readonly warnings: ReputationSignal[];
  readonly good: ReputationSignal[];
  /** Neither good nor bad: no data below a volume floor, or an unreadable answer. */
  readonly silent: ReputationSignal[];
}

/**
 * Reads the reputation signals around an analysis window: for each (source, subject, metric) the latest value
 * that describes the window, compared with the latest value before it. Daily values count for the window when
 * their day is at most two days before it (the providers' lag); snapshots when observed from a day before its
 * start. Signals about sending IPs count only for IPs that sent the mail in question (`ips`; all IPs when null).
 * Pure.
 */
export function readSignals(
  all: readonly ReputationSignal[],
  window: { readonly start: string; readonly end: string },
  ips: ReadonlySet<string> | null,
): SignalReading {
  const start = Date.parse(window.start);
  const end = Date.parse(window.end);
  const dailyFrom = utcDay(start - DAILY_LAG_DAYS * DAY_MS);
  const endDay = utcDay(end);
  const inWindow = new Map<string, ReputationSignal>();
  const before = new Map<string, ReputationSignal>();
  for (const s of all) {
    if (s.subjectKind === "ip" && ips !== null && !ips.has(s.subject)) continue;
    const observed = Date.parse(s.observedAt);
    if (observed > end) continue;
    const key = `${s.source}\u0000${s.subject}\u0000${s.metric}`;
    const describesWindow =
      s.day !== null ? s.day >= dailyFrom && s.day <= endDay : observed >= start - DAY_MS;
    const target = describesWindow ? inWindow : before;
    const prev = target.get(key);
    if (!prev || order(prev) < order(s)) target.set(key, s);
  }
  const reading: SignalReading = { bad: [], persistent: [], drops: [], warnings: [], good: [], silent: [] };
  for (const [key, s] of [...inWindow].sort(([a], [b]) => a.localeCompare(b))) {
    const earlier = before.get(key);
    if (SEVERITY[s.status] < 0) reading.silent.push(s);
    else if (earlier && SEVERITY[earlier.status] >= 0 && SEVERITY[s.status] > SEVERITY[earlier.status])
      reading.drops.push({ signal: s, before: earlier });
    else if (s.status === "bad" && earlier?.status === "bad") reading.persistent.push(s);
    else if (s.status === "bad") reading.bad.push(s);
    else if (s.status === "warning") reading.warnings.push(s);
    else reading.good.push(s);
  }
  return reading;
}

/** "snds 198.51.100.10 filter_result on 2026-09-17: RED (…)" */
export function describeSignal(s: ReputationSignal): string {
  return `${s.source} ${s.subject} ${s.metric}${s.day ? ` on ${s.day}` : ""}: ${s.detail}`;
}

function order(s: ReputationSignal): string {
  return `${s.day ?? s.observedAt.slice(0, 10)}\u0000${s.observedAt}`;
}

function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
