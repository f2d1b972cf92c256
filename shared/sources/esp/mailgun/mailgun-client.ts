import * as z from "zod";
import {
  ProviderFetchError,
  ProviderHttpClient,
  parseRetryAfter,
} from "../../../http/provider-http-client.ts";

export { parseRetryAfter };

/*
 * Reads Mailgun's two event APIs (docs/sources.md#mailgun) page by page, with the robustness a scheduled job
 * needs: Retry-After on 429, backoff with full jitter on 5xx / network errors / timeouts / malformed pages,
 * an immediate stop on a refused key, and guards against paging that leaves the API host or loops. Every
 * page is yielded with its exact response text so the pipeline can land it raw; nothing is skipped silently.
 */

export type MailgunRegion = "us" | "eu";

export interface MailgunClientOptions {
  readonly apiKey: string;
  readonly region: MailgunRegion;
  /** Overrides the region's base URL (tests: a local server). */
  readonly baseUrl?: string;
  /** Per request, headers and body included (default 30 000). */
  readonly timeoutMs?: number;
  /** Attempts per page, the first included (default 5). */
  readonly maxAttempts?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** In [0, 1): the jitter source. */
  readonly random?: () => number;
  readonly fetch?: typeof fetch;
}

/** One response page. `body` is the exact response text; `next` is what the reader follows next (null: last). */
export interface MailgunPage {
  readonly url: string;
  readonly body: string;
  readonly items: unknown[];
  /** Events API: the next page URL. Logs API: the next pagination token. */
  readonly next: string | null;
}

export interface EventsPagesQuery {
  readonly domain: string;
  readonly begin: Date;
  readonly end: Date;
  readonly limit?: number;
  /** A Mailgun filter expression. */
  readonly event?: string;
}

export interface LogsPagesQuery {
  readonly start: Date;
  readonly end: Date;
  readonly events?: readonly string[];
  readonly limit?: number;
}

/** Why a fetch failed: `auth` and `http` fail at once, `exhausted` after maxAttempts, `paging` on a bad link. */
export type MailgunFetchErrorKind = "auth" | "http" | "exhausted" | "paging";

export class MailgunFetchError extends Error {
  override readonly name = "MailgunFetchError";
  constructor(
    message: string,
    readonly kind: MailgunFetchErrorKind,
    /** The request URL, without credentials. */
    readonly url: string,
    /** The last HTTP status seen, null when no response arrived (network error, timeout). */
    readonly status: number | null,
    readonly attempts: number,
  ) {
    super(message);
  }
}

export const MAILGUN_BASE_URLS: Readonly<Record<MailgunRegion, string>> = {
  us: "https://api.mailgun.net",
  eu: "https://api.eu.mailgun.net",
};

const DEFAULT_MAX_ATTEMPTS = 5;
const DEFAULT_EVENTS_FILTER = "delivered OR failed OR rejected OR complained";
const DEFAULT_LOG_EVENTS = ["delivered", "failed", "rejected", "complained"] as const;

const EventsPageSchema = z.looseObject({
  items: z.array(z.unknown()),
  paging: z.looseObject({ next: z.string().min(1).optional() }).optional(),
});
const LogsPageSchema = z.looseObject({
  items: z.array(z.unknown()),
  pagination: z.looseObject({ next: z.string().nullish() }).nullish(),
});

interface Fetched<T> {
  readonly text: string;
  readonly page: T;
}

export class MailgunClient {
  private readonly baseUrl: URL;
  private readonly authorization: string;
  private readonly http: ProviderHttpClient;

  constructor(options: MailgunClientOptions) {
    this.baseUrl = new URL(options.baseUrl ?? MAILGUN_BASE_URLS[options.region]);
    this.authorization = `Basic ${Buffer.from(`api:${options.apiKey}`).toString("base64")}`;
    this.http = new ProviderHttpClient({
      provider: "Mailgun",
      credentialName: "API key",
      bodyName: "page",
      authHint: "check the key and its scope (an account key, not a sending key)",
      // An echoed key (some proxies do) must not reach logs through an error message.
      secrets: [options.apiKey, this.authorization],
      maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.sleep ? { sleep: options.sleep } : {}),
      ...(options.random ? { random: options.random } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
  }

  /**
   * `GET /v3/{domain}/events`, ascending over [begin, end], following `paging.next` until a page with no
   * items (Mailgun's documented end; that empty page is yielded too).
   */
  async *eventsPages(query: EventsPagesQuery): AsyncGenerator<MailgunPage, void, undefined> {
    const first = this.url(`/v3/${encodeURIComponent(query.domain)}/events`);
    // Whole seconds widen the window rather than narrow it; overlap is deduplicated by event id downstream.
    first.searchParams.set("begin", String(Math.floor(query.begin.getTime() / 1000)));
    first.searchParams.set("end", String(Math.ceil(query.end.getTime() / 1000)));
    first.searchParams.set("ascending", "yes");
    first.searchParams.set("limit", String(query.limit ?? 300));
    first.searchParams.set("event", query.event ?? DEFAULT_EVENTS_FILTER);

    const requested = new Set<string>();
    let url: URL | null = first;
    while (url !== null) {
      requested.add(url.href);
      const { text, page } = await this.request(url, null, EventsPageSchema, (p) =>
        // A non-empty page must say where to go on; without it the traversal would end short, silently.
        p.items.length > 0 && p.paging?.next === undefined ? "no paging.next" : null,
      );
      let next: URL | null = null;
      if (page.items.length > 0) {
        next = this.followable(page.paging?.next ?? "", url);
        if (requested.has(next.href)) {
          throw new MailgunFetchError(
            `Mailgun paging loops: ${redact(url)} points back to ${redact(next)}, already read in this traversal`,
            "paging",
            redact(next),
            200,
            1,
          );
        }
      }
      yield { url: redact(url), body: text, items: page.items, next: next === null ? null : redact(next) };
      url = next;
    }
  }

  /**
   * `POST /v1/analytics/logs` (account-wide), ascending by timestamp, following `pagination.next` tokens until
   * a page with no items or no token.
   */
  async *logsPages(query: LogsPagesQuery): AsyncGenerator<MailgunPage, void, undefined> {
    const url = this.url("/v1/analytics/logs");
    const seenTokens = new Set<string>();
    let token: string | null = null;
    for (;;) {
      const body: string = JSON.stringify({
        start: rfc2822(new Date(Math.floor(query.start.getTime() / 1000) * 1000)),
        end: rfc2822(new Date(Math.ceil(query.end.getTime() / 1000) * 1000)),
        events: query.events ?? DEFAULT_LOG_EVENTS,
        include_totals: false,
        pagination: {
          sort: "timestamp:asc",
          limit: query.limit ?? 1000,
          ...(token === null ? {} : { token }),
        },
      });
      const { text, page } = await this.request(url, body, LogsPageSchema, () => null);
      const nextToken = page.pagination?.next;
      const next: string | null = page.items.length > 0 && nextToken ? nextToken : null;
      if (next !== null && seenTokens.has(next)) {
        throw new MailgunFetchError(
          `Mailgun paging loops: ${redact(url)} returned a pagination token already followed`,
          "paging",
          redact(url),
          200,
          1,
        );
      }
      if (next !== null) seenTokens.add(next);
      yield { url: redact(url), body: text, items: page.items, next };
      if (next === null) return;
      token = next;
    }
  }

  private url(path: string): URL {
    const u = new URL(this.baseUrl.href);
    u.pathname = `${u.pathname.replace(/\/+$/, "")}${path}`;
    u.search = "";
    return u;
  }

  /** A `next` link is followed only on the API's own origin: the Authorization header must not leave it. */
  private followable(link: string, from: URL): URL {
    let next: URL;
    try {
      next = new URL(link, from);
    } catch {
      throw new MailgunFetchError(
        `Mailgun paging.next is not a URL: ${JSON.stringify(link)}`,
        "paging",
        redact(from),
        200,
        1,
      );
    }
    if (next.origin !== this.baseUrl.origin) {
      throw new MailgunFetchError(
        `Mailgun paging.next leaves the API host (${next.origin}, expected ${this.baseUrl.origin}); refusing to follow`,
        "paging",
        redact(next),
        200,
        1,
      );
    }
    return next;
  }

  /**
   * One page with retries (ProviderHttpClient: Retry-After on 429, backoff on 5xx, network errors, timeouts and
   * malformed pages): a GET, or a POST of `jsonBody`. A 2xx body must parse as JSON, match `schema` and pass
   * `problem` (null: fine), else it is a malformed page and counts as a failed attempt.
   */
  private async request<S extends z.ZodType>(
    url: URL,
    jsonBody: string | null,
    schema: S,
    problem: (page: z.infer<S>) => string | null,
  ): Promise<Fetched<z.infer<S>>> {
    try {
      const r = await this.http.request({
        url,
        method: jsonBody === null ? "GET" : "POST",
        headers: {
          Authorization: this.authorization,
          ...(jsonBody === null ? {} : { "Content-Type": "application/json" }),
        },
        ...(jsonBody === null ? {} : { body: jsonBody }),
        parse: (text) => {
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            throw new Error("not JSON");
          }
          const parsed = schema.safeParse(json);
          const why = parsed.success ? problem(parsed.data) : "no items array";
          if (!parsed.success || why !== null) throw new Error(why ?? "no items array");
          return parsed.data as z.infer<S>;
        },
      });
      return { text: r.text, page: r.value };
    } catch (e) {
      if (e instanceof ProviderFetchError)
        throw new MailgunFetchError(e.message, e.kind, e.url, e.status, e.attempts);
      throw e;
    }
  }
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `Mon, 27 May 2024 00:00:00 +0000`, the form Mailgun's Logs API examples use. */
export function rfc2822(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return (
    `${DAYS[d.getUTCDay()]}, ${p(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`
  );
}

/** The URL as text without user-info (the key travels in a header, but a base URL could carry some). */
function redact(url: URL): string {
  if (url.username === "" && url.password === "") return url.href;
  const u = new URL(url.href);
  u.username = "";
  u.password = "";
  return u.href;
}
