/**
 * What every benchmark case process shares: reading its flags, progress lines on stderr, and its result as one
 * JSON line on stdout with the process's peak RSS appended (the orchestrator runs each case in a fresh process
 * so one case's heap does not inflate another's figure).
 */

export function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

export function requiredFlag(name: string): string {
  const value = flag(name);
  if (value === undefined) throw new Error(`missing --${name}`);
  return value;
}

export function positiveIntFlag(name: string, fallback: number): number {
  const raw = flag(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name}: expected a positive integer, got "${raw}"`);
  return n;
}

export function progress(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

/** Peak resident set size of this process so far, in bytes (resourceUsage reports kilobytes). */
export function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** The case's one result line; the orchestrator reads the last stdout line. */
export function emitResult(result: object): void {
  process.stdout.write(`${JSON.stringify({ ...result, peakRssBytes: peakRssBytes() })}\n`);
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error("median of nothing");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
