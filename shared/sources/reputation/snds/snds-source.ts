import type { ReputationSignal } from "../../../domain/reputation/reputation-signal.ts";
import { dayOfWindow } from "../../../domain/reputation/signal-day.ts";
import {
  ProviderFetchError,
  ProviderHttpClient,
  type ProviderHttpOptions,
} from "../../../http/provider-http-client.ts";
import {
  type BadRowSink,
  IGNORE_BAD_ROWS,
  keepingSignals,
  type ReputationSource,
} from "../reputation-source.ts";
import {
  readSndsData,
  readSndsIpStatus,
  type SndsDataRow,
  type SndsIpStatusRow,
  type SndsReadResult,
  tryIpv4ToNumber,
} from "./parse-snds-csv.ts";

/*
 * Microsoft SNDS "Automated Data Access" (https://sendersupport.olc.protection.outlook.com/SNDS/FAQ.aspx): data.aspx (per IP per day) and
 * ipStatus.aspx (blocked ranges), both authenticated by a GUID key in the query string. The key is a bearer
 * credential: it is handed to the HTTP client as a secret so every message it builds shows *** instead, and
 * this adapter never puts the URL or a response body into a signal.
 */

export const SNDS_DEFAULT_BASE_URL = "https://sendersupport.olc.protection.outlook.com";
/** The latest day may still be filling in: real clients read the day before yesterday. */
export const SNDS_DEFAULT_DAYS_BACK = 2;
/** The SNDS portal keeps 90 days. */
const MAX_DAYS_BACK = 90;

const DAY_MS = 86_400_000;
/** Percent thresholds, our judgement (Microsoft publishes none): bad at or above, warning above. */
const COMPLAINT_BAD_PERCENT = 0.3;
const COMPLAINT_WARNING_PERCENT = 0.1;

export interface SndsSourceOptions
  extends Pick<ProviderHttpOptions, "fetch" | "sleep" | "random" | "timeoutMs" | "maxAttempts"> {
  /** The Automated Data Access key (a GUID). Never shown. */
  readonly key: string;
  /** Default https://sendersupport.olc.protection.outlook.com. */
  readonly baseUrl?: string;
  /** Which day to read, in days before `now` (default 2). */
  readonly daysBack?: number;
  /** Only these IPv4 addresses; they get `no_data` on days SNDS has no row for them. Default: every IP in the data. */
  readonly ips?: readonly string[];
}

/** Why SNDS gave no data: a web page instead of CSV, a 404, or a redirect (most likely to a sign-in page). */
export type SndsFetchErrorKind = "web_page" | "not_found" | "redirect";

export class SndsFetchError extends Error {
  override readonly name = "SndsFetchError";
  constructor(
    message: string,
    readonly kind: SndsFetchErrorKind,
    /** The request URL with the key redacted. */
    readonly url: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const RENEW_HINT =
  "renew the Automated Data Access key link in the SNDS portal (links issued after the 2026 portal migration " +
  "to substrate.office.com/ip-domain-management-snds reportedly expire after 30 days); nothing was read, " +
  "so this is not a clean result";

type Fetched<T> =
  | { readonly kind: "rows"; readonly rows: T }
  | { readonly kind: "web_page" | "not_found" | "redirect" };

export class SndsSource implements ReputationSource {
  readonly id = "snds" as const;
  private readonly key: string;
  private readonly baseUrl: string;
  private readonly daysBack: number;
  private readonly ips: readonly string[] | null;
  private readonly http: ProviderHttpClient;

  constructor(options: SndsSourceOptions) {
    // The message must not echo the key, even a malformed one.
    if (options.key.trim() === "") throw new Error("SNDS: the Automated Data Access key is empty");
    const daysBack = options.daysBack ?? SNDS_DEFAULT_DAYS_BACK;
    if (!Number.isInteger(daysBack) || daysBack < 0 || daysBack > MAX_DAYS_BACK) {
      throw new Error(`SNDS: daysBack must be a whole number from 0 to ${MAX_DAYS_BACK}, got ${daysBack}`);
    }
    for (const ip of options.ips ?? []) {
      if (tryIpv4ToNumber(ip) === null) throw new Error(`SNDS: ${JSON.stringify(ip)} is not an IPv4 address`);
    }
    this.key = options.key.trim();
    this.baseUrl = (options.baseUrl ?? SNDS_DEFAULT_BASE_URL).replace(/\/+$/, "");
    this.daysBack = daysBack;
    this.ips = options.ips ? [...new Set(options.ips)] : null;
    this.http = new ProviderHttpClient({
      provider: "Microsoft SNDS",
      fetch: options.fetch,
      sleep: options.sleep,
      random: options.random,
      timeoutMs: options.timeoutMs,
      maxAttempts: options.maxAttempts,
      // The key as typed and as URL-encoded, whichever form a message might carry.
      secrets: [
        this.key,
        encodeURIComponent(this.key),
        new URLSearchParams({ k: this.key }).toString().slice(2),
      ],
      authHint: RENEW_HINT,
    });
  }

  /** The UTC day data.aspx is asked for: `now` minus daysBack days. */
  dayFor(now: Date): string {
    return new Date(now.getTime() - this.daysBack * DAY_MS).toISOString().slice(0, 10);
  }

  async collect(now: Date, badRows: BadRowSink = IGNORE_BAD_ROWS): Promise<ReputationSignal[]> {
    const day = this.dayFor(now);
    const observedAt = now.toISOString();
    const data = await this.fetchCsv("data.aspx", { date: sndsDateParam(day) }, every(readSndsData));
    for (const b of data.bad) badRows.badRow({ where: `data.aspx row ${b.row}`, reason: b.message });
    const unreadable = new Map(data.bad.flatMap((b) => (b.ip ? [[b.ip, b.message] as const] : [])));
    const daily = { day, data: data.rows, unreadable, ips: this.ips, observedAt };
    // The daily values are read: a failing ipStatus.aspx keeps them (without an IP status, never a "not blocked").
    const status = await keepingSignals(sndsSignals({ ...daily, status: null }), () =>
      this.fetchCsv("ipStatus.aspx", {}, every(readSndsIpStatus)),
    );
    for (const b of status.bad) badRows.badRow({ where: `ipStatus.aspx row ${b.row}`, reason: b.message });
    return sndsSignals({ ...daily, status: status.rows, statusUnreadable: status.bad.length });
  }

  private async fetchCsv<T>(
    file: string,
    params: Record<string, string>,
    parse: (text: string) => T,
  ): Promise<T> {
    const url = new URL(`${this.baseUrl}/snds/${file}`);
    url.searchParams.set("key", this.key);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const shown = this.http.redact(url.href);
    let fetched: Fetched<T>;
    let status: number;
    try {
      const res = await this.http.request<Fetched<T>>({
        url,
        headers: { Accept: "text/csv, text/plain;q=0.9, */*;q=0.1" },
        // Answers, not faults to retry: a retry would not renew the key.
        acceptStatuses: [301, 302, 303, 307, 308, 404],
        parse: (text, code) => {
          if (code === 404) return { kind: "not_found" };
          if (code >= 300) return { kind: "redirect" };
          if (looksLikeHtml(text)) return { kind: "web_page" };
          // A malformed row throws here, so the client retries it (a cut-off body) before giving up.
          return { kind: "rows", rows: parse(text) };
        },
      });
      fetched = res.value;
      status = res.status;
    } catch (e) {
      throw this.scrub(e);
    }
    switch (fetched.kind) {
      case "rows":
        return fetched.rows;
      case "web_page":
        throw new SndsFetchError(
          `Microsoft SNDS served a web page instead of CSV for ${shown} (HTTP ${status}): the key link may have ` +
            `expired or been revoked, or the 2026 portal migration sent it to a sign-in page; ${RENEW_HINT}`,
          "web_page",
          shown,
          status,
        );
      case "redirect":
        throw new SndsFetchError(
          `Microsoft SNDS redirected ${shown} (HTTP ${status}) instead of serving CSV, most likely to a sign-in ` +
            `page after the 2026 portal migration; ${RENEW_HINT}`,
          "redirect",
          shown,
          status,
        );
      case "not_found":
        throw new SndsFetchError(
          `Microsoft SNDS answered HTTP 404 for ${shown}: the key expired or was revoked, or SNDS has no data ` +
            `for it; ${RENEW_HINT}`,
          "not_found",
          shown,
          status,
        );
    }
  }

  /** The client redacts what it builds; this covers anything else (a network error quoting the URL). */
  private scrub(e: unknown): unknown {
    if (!(e instanceof Error)) return new Error(this.http.redact(String(e)));
    const clean = this.http.redact(e.message);
    if (clean === e.message) return e;
    if (e instanceof ProviderFetchError) {
      return new ProviderFetchError(clean, e.kind, this.http.redact(e.url), e.status, e.attempts);
    }
    return new Error(clean);
  }
}

/**
 * A file read row by row, but refused whole when no row at all could be read: that is a changed format (or a
 * cut-off body, which the client then retries), not a handful of bad rows.
 */
function every<T>(read: (text: string) => SndsReadResult<T>): (text: string) => SndsReadResult<T> {
  return (text) => {
    const result = read(text);
    const [first] = result.bad;
    if (first && result.rows.length === 0) throw new Error(first.message);
    return result;
  };
}

/** A UTC day "2026-09-17" as SNDS's date parameter "091726". */
export function sndsDateParam(day: string): string {
  return `${day.slice(5, 7)}${day.slice(8, 10)}${day.slice(2, 4)}`;
}

export interface SndsSignalInput {
  /** The day data.aspx was asked for: the day of `no_data` signals, and of every row SNDS files under it. */
  readonly day: string;
  readonly data: readonly SndsDataRow[];
  /** ipStatus.aspx's rows; null when it was not read (then no IP status is said at all). */
  readonly status: readonly SndsIpStatusRow[] | null;
  /** The configured IPs, or null for every IP in the data. */
  readonly ips: readonly string[] | null;
  readonly observedAt: string;
  /** IPs whose data.aspx row could not be read, with why: their day is unknown, not without data. */
  readonly unreadable?: ReadonlyMap<string, string>;
  /** ipStatus.aspx rows that could not be read: an IP found in no blocked range is then not known to be unblocked. */
  readonly statusUnreadable?: number;
}

/** The signals one SNDS read says: per data row, per configured IP without a row, and per IP's block status. */
export function sndsSignals(input: SndsSignalInput): ReputationSignal[] {
  const { day, observedAt } = input;
  const wanted = input.ips ? new Set(input.ips) : null;
  const rows = wanted ? input.data.filter((r) => wanted.has(r.ip)) : input.data;
  const base = { source: "snds", subjectKind: "ip", observedAt } as const;
  const out: ReputationSignal[] = [];

  for (const r of rows) {
    // The day SNDS files the row under: the day its activity window closes (signal-day.ts).
    const rowDay = dayOfWindow(r.activityStart, r.activityEnd);
    const s = { ...base, subject: r.ip, day: rowDay };
    out.push({ ...s, metric: "filter_result", ...filterResult(r, rowDay) });
    out.push({ ...s, metric: "complaint_rate", ...complaintRate(r, rowDay) });
    out.push({ ...s, metric: "trap_hits", ...trapHits(r, rowDay) });
  }

  // Under 100 messages a day SNDS shows nothing: that is not a clean day. Every daily metric gets no_data,
  // dated by the day asked for like the rows, so an older RED or complaint rate is not left standing as the
  // latest value beside a newer quiet day.
  const seen = new Set(
    rows.filter((r) => dayOfWindow(r.activityStart, r.activityEnd) === day).map((r) => r.ip),
  );
  const unreadable = input.unreadable ?? new Map<string, string>();
  // Configured IPs without a row; without a configured list, the IPs whose row could not be read.
  const quiet = input.ips ?? [...unreadable.keys()];
  for (const ip of new Set(quiet)) {
    if (seen.has(ip)) continue;
    const why = unreadable.get(ip);
    for (const [metric, what] of [
      ["filter_result", "filter result"],
      ["complaint_rate", "complaint rate"],
      ["trap_hits", "trap hits"],
    ] as const) {
      out.push({
        ...base,
        subject: ip,
        metric,
        value: null,
        day,
        ...(why === undefined
          ? {
              status: "no_data" as const,
              detail:
                `SNDS shows no ${what} for ${ip} on ${day}: it lists nothing for an IP that sent fewer than 100 ` +
                "messages to Outlook.com that day, so this is neither clean nor dirty.",
            }
          : {
              status: "unknown" as const,
              detail: `SNDS's row for ${ip} on ${day} could not be read (${why}), so its ${what} is not known.`,
            }),
      });
    }
  }

  if (input.status !== null) out.push(...ipStatusSignals({ ...input, status: input.status }, rows));
  return out;
}

function ipStatusSignals(
  input: SndsSignalInput & { readonly status: readonly SndsIpStatusRow[] },
  rows: readonly SndsDataRow[],
): ReputationSignal[] {
  const base = {
    source: "snds",
    subjectKind: "ip",
    metric: "ip_status",
    day: null,
    observedAt: input.observedAt,
  } as const;
  const blocked = input.status
    .filter((r) => r.blocked)
    .map((r) => ({ ...r, lo: tryIpv4ToNumber(r.firstIp) ?? 0, hi: tryIpv4ToNumber(r.lastIp) ?? 0 }));
  const subjects = input.ips ?? [...new Set(rows.map((r) => r.ip))];
  const out: ReputationSignal[] = [];
  const covered = new Set<(typeof blocked)[number]>();

  for (const ip of subjects) {
    const n = tryIpv4ToNumber(ip);
    const hits = n === null ? [] : blocked.filter((b) => b.lo <= n && n <= b.hi);
    for (const h of hits) covered.add(h);
    const first = hits[0];
    if (first) {
      out.push({
        ...base,
        subject: ip,
        status: "bad",
        value: "blocked",
        detail: `Outlook.com blocks ${ip} (SNDS blocked range ${rangeText(first)}): ${first.reason || "no reason given"}.`,
      });
    } else if (input.ips && (input.statusUnreadable ?? 0) > 0) {
      out.push({
        ...base,
        subject: ip,
        status: "unknown",
        value: null,
        detail: `${ip} is in no blocked range of the SNDS ip status rows that could be read, but ${input.statusUnreadable} row(s) could not be, so whether Outlook.com blocks it is not known.`,
      });
    } else if (input.ips) {
      out.push({
        ...base,
        subject: ip,
        status: "good",
        value: "not blocked",
        detail: `${ip} is in no range SNDS lists as blocked by Outlook.com.`,
      });
    }
  }

  // Without a configured list, a blocked range that sent too little to appear in the data is still yours
  // (SNDS only shows ranges you proved control of): report it by its range rather than drop it.
  if (!input.ips) {
    for (const b of blocked) {
      if (covered.has(b)) continue;
      out.push({
        ...base,
        subject: b.firstIp === b.lastIp ? b.firstIp : `${b.firstIp}-${b.lastIp}`,
        status: "bad",
        value: "blocked",
        detail: `Outlook.com blocks the range ${rangeText(b)} (SNDS ip status): ${b.reason || "no reason given"}.`,
      });
    }
  }
  return out;
}

type Judged = Pick<ReputationSignal, "status" | "value" | "detail">;

const COLOUR_MEANING = {
  GREEN: "under 10% of its mail judged spam",
  YELLOW: "10–90% of its mail judged spam",
  RED: "over 90% of its mail judged spam",
} as const;

function filterResult(r: SndsDataRow, day: string): Judged {
  const status = r.filterResult === "RED" ? "bad" : r.filterResult === "YELLOW" ? "warning" : "good";
  return {
    status,
    value: r.filterResult,
    detail:
      `SNDS filter result for ${r.ip} on ${day}: ${r.filterResult} (${COLOUR_MEANING[r.filterResult]}) over ` +
      `${r.rcptCommands} RCPT commands, ${r.dataCommands} DATA commands and ${r.messageRecipients} message ` +
      "recipients; RED is bad, YELLOW a warning, GREEN good.",
  };
}

function complaintRate(r: SndsDataRow, day: string): Judged {
  const thresholds = `a warning above ${COMPLAINT_WARNING_PERCENT}%, bad at ${COMPLAINT_BAD_PERCENT}% or more`;
  if (r.complaintRateBelow) {
    return {
      // "< 0.1%" is under every threshold; the floor stands in for the value SNDS does not give.
      status: "good",
      value: Number(`${r.complaintRatePercent}e-2`),
      detail: `SNDS complaint rate for ${r.ip} on ${day}: below ${r.complaintRatePercent}% (shown as "< ${r.complaintRatePercent}%"); ${thresholds}.`,
    };
  }
  const pct = r.complaintRatePercent;
  // Judged on the percentage as shown, and the fraction built from its decimal text: 0.7 / 100 is 0.006999….
  const status = pct >= COMPLAINT_BAD_PERCENT ? "bad" : pct > COMPLAINT_WARNING_PERCENT ? "warning" : "good";
  return {
    status,
    value: Number(`${pct}e-2`),
    detail: `SNDS complaint rate for ${r.ip} on ${day}: ${pct}%; ${thresholds}.`,
  };
}

function trapHits(r: SndsDataRow, day: string): Judged {
  const window =
    r.trapMessageStart && r.trapMessageEnd
      ? ` (trap messages from ${shortTime(r.trapMessageStart)} to ${shortTime(r.trapMessageEnd)})`
      : "";
  return {
    status: r.trapHits > 0 ? "bad" : "good",
    value: r.trapHits,
    detail: `SNDS counted ${r.trapHits} spam-trap hit${r.trapHits === 1 ? "" : "s"} for ${r.ip} on ${day}${window}; any trap hit is bad.`,
  };
}

function shortTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

function rangeText(r: SndsIpStatusRow): string {
  return r.firstIp === r.lastIp ? r.firstIp : `${r.firstIp}–${r.lastIp}`;
}

/** A sign-in or error page: no CSV row starts with "<", and none holds an html tag. */
function looksLikeHtml(text: string): boolean {
  return text.trimStart().startsWith("<") || /<html/i.test(text);
}
