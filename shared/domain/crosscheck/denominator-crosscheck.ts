/** Attempts per recipient domain as bounce-radar counted them, and as the ESP's own metrics say. */
export interface DomainCounts {
  readonly domain: string;
  readonly delivered: number;
  readonly bounced: number;
}

export interface CrossCheckRow {
  readonly domain: string;
  readonly ours: number;
  readonly theirs: number | null;
  /** ours ÷ theirs; null when the ESP gave no number. */
  readonly ratio: number | null;
  readonly agrees: boolean;
}

/**
 * Compares our attempt counts (delivered + bounced) per recipient domain with the ESP's aggregate metrics for
 * the same period: a domain whose counts differ by more than `tolerance` (and by more than a handful of
 * messages) points to events the pull missed or counted twice. The ESP's taxonomy differs from ours at the
 * edges, so this is a tolerance check, not an equality. Pure.
 */
export function crossCheckDenominators(
  ours: readonly DomainCounts[],
  theirs: ReadonlyMap<string, number | null>,
  options: { readonly tolerance?: number; readonly minDifference?: number } = {},
): CrossCheckRow[] {
  const tolerance = options.tolerance ?? 0.1;
  const minDifference = options.minDifference ?? 5;
  return ours.map((o) => {
    const n = o.delivered + o.bounced;
    const t = theirs.get(o.domain) ?? null;
    if (t === null) return { domain: o.domain, ours: n, theirs: null, ratio: null, agrees: false };
    const diff = Math.abs(n - t);
    const ratio = t === 0 ? (n === 0 ? 1 : Number.POSITIVE_INFINITY) : n / t;
    return {
      domain: o.domain,
      ours: n,
      theirs: t,
      ratio,
      agrees: diff <= minDifference || diff <= tolerance * t,
    };
  });
}
