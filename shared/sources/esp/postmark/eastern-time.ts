/*
 * Postmark reads `fromdate`/`todate` (and reports stats) in US Eastern wall-clock time, not UTC
 * (https://postmarkapp.com/developer/api/bounce-api). These helpers convert between UTC instants and that wall clock through the platform's
 * time-zone data (Intl, America/New_York), so both DST transitions are handled without a dependency:
 *   - spring forward (2nd Sunday of March): 02:00–02:59 local never happens;
 *   - fall back (1st Sunday of November): 01:00–01:59 local happens twice (EDT, then EST).
 */

export const POSTMARK_TIME_ZONE = "America/New_York";

const WALL_CLOCK = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/;
const DAY_MS = 86_400_000;

// One formatter for the process: building an Intl formatter is far dearer than using one.
const formatter = new Intl.DateTimeFormat("en-US", {
  timeZone: POSTMARK_TIME_ZONE,
  // h23, not hour12: false — some engines render midnight as "24" with the latter.
  hourCycle: "h23",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

/**
 * The Eastern wall-clock time of an instant, as Postmark's date filters take it: `YYYY-MM-DDTHH:mm:ss`.
 * Milliseconds are dropped (truncated toward the past), as the filters have whole seconds.
 */
export function toEasternWallClock(instant: Date | number): string {
  const ms = typeof instant === "number" ? instant : instant.getTime();
  if (!Number.isFinite(ms)) throw new RangeError(`not a valid instant: ${String(instant)}`);
  const parts: Record<string, string> = {};
  for (const p of formatter.formatToParts(new Date(ms))) parts[p.type] = p.value;
  const { year = "", month = "", day = "", hour = "", minute = "", second = "" } = parts;
  // Years before 1000 or after 9999 do not occur in Postmark data; padStart keeps the shape regardless.
  return `${year.padStart(4, "0")}-${month}-${day}T${hour}:${minute}:${second}`;
}

/**
 * Every UTC instant whose Eastern wall clock reads `wall`, earliest first: one normally, two in the repeated
 * fall-back hour, none in the skipped spring-forward hour.
 */
export function easternWallClockInstants(wall: string): Date[] {
  const asUtc = wallAsUtc(wall);
  // Offsets in force a day either side: a zone never changes offset twice within two days.
  const offsets = new Set([offsetAt(asUtc - DAY_MS), offsetAt(asUtc + DAY_MS)]);
  const out: number[] = [];
  for (const offset of offsets) {
    const candidate = asUtc - offset;
    if (toEasternWallClock(candidate) === wall && !out.includes(candidate)) out.push(candidate);
  }
  return out.sort((a, b) => a - b).map((ms) => new Date(ms));
}

/** Which instant an ambiguous (repeated) wall-clock time means. */
export type Disambiguation = "earlier" | "later";

/**
 * The UTC instant of an Eastern wall-clock time `YYYY-MM-DDTHH:mm:ss`. In the repeated fall-back hour it is
 * the earlier (EDT) reading unless `later` is asked for; a time inside the spring-forward gap is read with the
 * offset in force before the gap (02:30 → 07:30Z, i.e. 03:30 EDT), as most schedulers and Temporal do.
 */
export function fromEasternWallClock(wall: string, disambiguation: Disambiguation = "earlier"): Date {
  const found = easternWallClockInstants(wall);
  if (found.length > 0) {
    const pick = disambiguation === "later" ? found[found.length - 1] : found[0];
    if (pick) return pick;
  }
  const asUtc = wallAsUtc(wall);
  return new Date(asUtc - offsetAt(asUtc - DAY_MS));
}

/** The wall clock read as if it were UTC, in ms; throws on anything not a real `YYYY-MM-DDTHH:mm:ss`. */
function wallAsUtc(wall: string): number {
  const m = WALL_CLOCK.exec(wall);
  if (!m) throw new RangeError(`not an Eastern wall-clock time YYYY-MM-DDTHH:mm:ss: ${JSON.stringify(wall)}`);
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  // Date.UTC rolls 2026-02-30 or 25:00 over silently: the fields must survive the round trip.
  if (
    back.getUTCFullYear() !== y ||
    back.getUTCMonth() !== mo - 1 ||
    back.getUTCDate() !== d ||
    back.getUTCHours() !== h ||
    back.getUTCMinutes() !== mi ||
    back.getUTCSeconds() !== s
  ) {
    throw new RangeError(`not a real date and time: ${JSON.stringify(wall)}`);
  }
  return ms;
}

/** Eastern offset from UTC at an instant, in ms (−4 h in EDT, −5 h in EST). */
function offsetAt(ms: number): number {
  const wholeSecond = Math.floor(ms / 1000) * 1000;
  return wallAsUtc(toEasternWallClock(wholeSecond)) - wholeSecond;
}
