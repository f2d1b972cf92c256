/**
 * Number and date formatting for the HTML report. Every function accepts any number (NaN, Infinity, negative)
 * and returns readable text, so a report with no traffic never prints "NaN" or "Infinity".
 */

/** The number itself when finite, else the fallback. */
export function finite(x: unknown, fallback = 0): number {
  return typeof x === "number" && Number.isFinite(x) ? x : fallback;
}

/** a / b, or 0 when b is not positive or either is not finite (zero attempts means a rate of 0, not NaN). */
export function ratio(a: number, b: number): number {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b <= 0) return 0;
  return a / b;
}

const COUNT = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** 12345 -> "12,345". */
export function formatCount(n: number): string {
  return COUNT.format(finite(n));
}

/** Any number: integers grouped, fractions with up to three significant decimals. */
export function formatNumber(n: number): string {
  const x = finite(n);
  if (Number.isInteger(x)) return formatCount(x);
  return new Intl.NumberFormat("en-US", { maximumSignificantDigits: 3 }).format(x);
}

/** 0.0342 -> "3.4%"; small rates keep two decimals so a 0.04% baseline does not read as 0%. */
export function formatPercent(rate: number): string {
  const p = finite(rate) * 100;
  if (p === 0) return "0%";
  const abs = Math.abs(p);
  if (abs < 0.01) return p < 0 ? ">-0.01%" : "<0.01%";
  // Thresholds just below 1 and 100 so 0.9999% prints as "1.0%", not "1.00%".
  if (abs < 0.995) return `${p.toFixed(2)}%`;
  if (abs < 99.95) return `${p.toFixed(1)}%`;
  return `${p.toFixed(0)}%`;
}

/** Axis tick labels: "10%", "2.5%", "0.25%" — no trailing zeros. */
export function formatPercentTick(rate: number): string {
  const p = finite(rate) * 100;
  return `${Number(p.toPrecision(6))}%`;
}

/** A confidence as a whole percentage: 0.91 -> "91%". */
export function formatConfidence(c: number): string {
  return `${Math.round(Math.min(1, Math.max(0, finite(c))) * 100)}%`;
}

/** How many times the baseline the rate is: "×12.5", "new" when the baseline was 0, "—" when both are 0. */
export function formatMultiplier(rate: number, baseline: number): string {
  const r = finite(rate);
  const b = finite(baseline);
  if (b <= 0) return r > 0 ? "new" : "—";
  const m = r / b;
  return `×${m >= 10 ? m.toFixed(0) : m.toFixed(1)}`;
}

/** q-values and p-values: tiny ones as "<0.001" rather than in exponent notation. */
export function formatProbability(p: number): string {
  const x = finite(p, 1);
  if (x < 0.001) return "<0.001";
  return x.toFixed(3);
}

/** "2025-06-12T09:00:00.000Z" -> "2025-06-12 09:00 UTC"; text that is not a date comes back unchanged. */
export function formatInstant(iso: string): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  const s = new Date(t).toISOString();
  return `${s.slice(0, 10)} ${s.slice(11, 16)} UTC`;
}

/** Length of a period in words: "24 h", "28 days", "45 min". */
export function formatDuration(startIso: string, endIso: string): string {
  const ms = Date.parse(endIso) - Date.parse(startIso);
  if (!Number.isFinite(ms) || ms < 0) return "";
  const minutes = Math.round(ms / 60_000);
  if (minutes < 120) return `${minutes} min`;
  const hours = ms / 3_600_000;
  if (hours <= 72) return `${Number.isInteger(hours) ? hours : hours.toFixed(1)} h`;
  const days = hours / 24;
  return `${Number.isInteger(days) ? days : days.toFixed(1)} days`;
}

/** "1 organisation", "7 organisations". */
export function plural(n: number, singular: string, pluralForm = `${singular}s`): string {
  return `${formatCount(n)} ${n === 1 ? singular : pluralForm}`;
}

/** "a", "a and b", "a, b and c". */
export function listInWords(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? "";
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** "reputation_block" -> "reputation block"; "previouslyDelivered" -> "previously delivered". */
export function humanise(key: string): string {
  return key
    .replace(/_/g, " ")
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .toLowerCase();
}
