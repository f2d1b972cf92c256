/** Plain-text tables for the terminal: first column left-aligned, the rest right-aligned (they are figures). */
export function formatTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

export const fmt = {
  int: (n: number): string => integer.format(n),
  perSecond: (n: number): string => `${integer.format(n)}/s`,
  seconds: (s: number): string => `${s.toFixed(2)} s`,
  ms: (ms: number): string => `${ms.toFixed(0)} ms`,
  /** File sizes, decimal: the bundle target is 1.5 MB. */
  mb: (bytes: number): string => `${(bytes / 1_000_000).toFixed(bytes < 10_000_000 ? 2 : 0)} MB`,
  /** Memory, binary: Lambda sizes memory in MiB, and the analysis target is 512 of them. */
  mib: (bytes: number): string => `${(bytes / 1_048_576).toFixed(0)} MiB`,
  ratio: (r: number): string => `${r.toFixed(r < 0.1 ? 3 : 2)}×`,
  percent: (r: number): string => `${(100 * r).toFixed(1)}%`,
};
