import * as z from "zod";
import { jsonBody, ProviderFetchError, ProviderHttpClient } from "../../../http/provider-http-client.ts";
import {
  SPARKPOST_BASE_URLS,
  type SparkpostHttpOptions,
  type SparkpostRegion,
} from "../../reputation/sparkpost/sparkpost-health-source.ts";

export { SPARKPOST_BASE_URLS, type SparkpostHttpOptions, type SparkpostRegion };

/*
 * Reads SparkPost's Events API page by page (https://developers.sparkpost.com/api/events/) and the Metrics API's deliverability by
 * recipient domain (§4.5) as a denominator cross-check. HTTP goes through ProviderHttpClient (Retry-After on
 * 429, backoff on 5xx / network errors / malformed pages, no redirects); this adds SparkPost's auth (the raw
 * key), its error bodies `{errors: [{message, code, description}]}` in messages, and guards against paging that
 * leaves the API origin (the key travels in every request) or loops. Pages are yielded with their exact
 * response text so the pipeline can land them raw.
 */

export interface SparkpostClientOptions extends SparkpostHttpOptions {
  readonly apiKey: string;
  /** Accounts are region-specific: a US key is refused by the EU host and the other way round. */
  readonly region: SparkpostRegion;
  /** Overrides the region's base URL (tests: a local server; enterprise tenants: their own host). */
  readonly baseUrl?: string;
}

export interface SparkpostEventsQuery {
  readonly start: Date;
  readonly end: Date;
  /** 1..10 000 (SparkPost's default 1000). */
  readonly perPage?: number;
  /** The `events` filter; default DEFAULT_SPARKPOST_EVENT_TYPES. */
  readonly events?: readonly string[];
}

/** One response page. `body` is the exact response text; `next` is the URL read next (null: last page). */
export interface SparkpostEventPage {
  /** `events page 3`: names the page in record refs. */
  readonly label: string;
  readonly url: string;
  readonly body: string;
  readonly items: unknown[];
  readonly next: string | null;
  /** The page's `total_count` (events in the whole query), null when absent. */
  readonly totalCount: number | null;
}

export interface SparkpostDeliverabilityQuery {
  readonly start: Date;
  readonly end: Date;
  /** Recipient domains to report; unset: every domain (up to SparkPost's limit of 10 000 rows). */
  readonly domains?: readonly string[];
}

/** SparkPost's counts for one recipient domain; null where SparkPost left a metric out. */
export interface SparkpostDomainDeliverability {
  readonly domain: string;
  /** Injected + rejected (policy and generation rejections included). */
  readonly targeted: number | null;
  /** Delivery attempts: deliveries + bounces. */
  readonly sent: number | null;
  readonly delivered: number | null;
  /** In-band + out-of-band, by SparkPost's bounce category (admin includes rejections). */
  readonly bounced: {
    readonly total: number | null;
    readonly hard: number | null;
    readonly soft: number | null;
    readonly block: number | null;
    readonly admin: number | null;
    readonly undetermined: number | null;
  };
}

export interface SparkpostDeliverability {
  readonly rows: SparkpostDomainDeliverability[];
  /** A request came back with as many rows as the limit allows: some domains may be missing. */
  readonly truncated: boolean;
}

/** The paging went wrong: a next link that is not a URL, leaves the API origin, or points back (a loop). */
export class SparkpostPagingError extends Error {
  override readonly name = "SparkpostPagingError";
  readonly kind = "paging" as const;
  constructor(
    message: string,
    /** The URL refused, or the page that carried the bad link. */
    readonly url: string,
  ) {
    super(message);
  }
}

export const SPARKPOST_EVENTS_PATH = "/api/v1/events/message";
export const SPARKPOST_DELIVERABILITY_DOMAIN_PATH = "/api/v1/metrics/deliverability/domain";

/**
 * Message-status events the mapper turns into events. `injection` (one per message, doubling the volume) is
 * left out as Mailgun's `accepted` is; engagement events are not ours.
 */
export const DEFAULT_SPARKPOST_EVENT_TYPES: readonly string[] = [
  "delivery",
  "bounce",
  "out_of_band",
  "delay",
  "policy_rejection",
  "generation_rejection",
  "generation_failure",
  "spam_complaint",
];

export const DELIVERABILITY_METRICS: readonly string[] = [
  "count_targeted",
  "count_sent",
  "count_delivered",
  "count_bounce",
  "count_hard_bounce",
  "count_soft_bounce",
  "count_block_bounce",
  "count_admin_bounce",
  "count_undetermined_bounce",
];

const PROVIDER = "SparkPost";
const DEFAULT_PER_PAGE = 1000;
const MAX_PER_PAGE = 10_000;
const METRICS_LIMIT = 10_000;
// SparkPost caps URIs at 4096 characters: a long domain list is asked for in slices well below that.
const MAX_DOMAINS_PARAM_CHARS = 2_000;
// Every 4xx but 429 is an answer whose body says why; 429 stays with ProviderHttpClient (Retry-After).
const ANSWERED_4XX: readonly number[] = Array.from({ length: 100 }, (_, i) => 400 + i).filter(
  (s) => s !== 429,
);

const ErrorsSchema = z.looseObject({
  errors: z.array(
    z.looseObject({
      message: z.string().optional(),
      code: z.union([z.string(), z.number()]).optional(),
      description: z.string().optional(),
    }),
  ),
});

const LinkSchema = z.looseObject({ href: z.string(), rel: z.string().optional() });
const EventsPageSchema = z.looseObject({
  results: z.array(z.unknown()),
  total_count: z.number().int().nonnegative().optional(),
  // SparkPost: [{href, rel}]; an object {next: href} is read too (Bird's rebranded API words it so).
  links: z.union([z.array(LinkSchema), z.looseObject({ next: z.string().nullish() })]).nullish(),
});
type EventsPage = z.infer<typeof EventsPageSchema>;

// Counts come as JSON numbers; a numeric string is accepted, anything else is "not reported".
const Count = z
  .unknown()
  .optional()
  .transform((v) => {
    const n = typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v.trim()) ? Number(v) : null;
    return n !== null && Number.isFinite(n) && n >= 0 ? n : null;
  });
const MetricsAnswerSchema = z.looseObject({
  results: z.array(
    z.looseObject({
      domain: z.string().min(1),
      count_targeted: Count,
      count_sent: Count,
      count_delivered: Count,
      count_bounce: Count,
      count_hard_bounce: Count,
      count_soft_bounce: Count,
      count_block_bounce: Count,
      count_admin_bounce: Count,
      count_undetermined_bounce: Count,
    }),
  ),
});

const readEventsPage = jsonBody(EventsPageSchema);
const readMetrics = jsonBody(MetricsAnswerSchema);

type Answer<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly said: string };

export class SparkpostClient {
  private readonly http: ProviderHttpClient;
  private readonly baseUrl: URL;

  constructor(private readonly options: SparkpostClientOptions) {
    this.baseUrl = new URL(options.baseUrl ?? SPARKPOST_BASE_URLS[options.region]);
    const { fetch, sleep, random, timeoutMs, maxAttempts } = options;
    this.http = new ProviderHttpClient({
      fetch,
      sleep,
      random,
      timeoutMs,
      maxAttempts,
      provider: PROVIDER,
      secrets: [options.apiKey],
    });
  }

  /**
   * `GET /api/v1/events/message` over [start, end] widened to whole minutes (SparkPost's `from`/`to` are
   * `YYYY-MM-DDTHH:MM`, UTC; the overlap is deduplicated by event id downstream), following the `next` link
   * until a page has none or no results. Results come newest first: read every page before advancing a
   * watermark.
   */
  async *eventPages(query: SparkpostEventsQuery): AsyncGenerator<SparkpostEventPage, void, undefined> {
    const perPage = query.perPage ?? DEFAULT_PER_PAGE;
    if (!Number.isInteger(perPage) || perPage < 1 || perPage > MAX_PER_PAGE) {
      throw new RangeError(`perPage must be an integer in [1, ${MAX_PER_PAGE}], got ${query.perPage}`);
    }
    const first = this.url(SPARKPOST_EVENTS_PATH);
    setWindow(first, query.start, query.end);
    first.searchParams.set("events", (query.events ?? DEFAULT_SPARKPOST_EVENT_TYPES).join(","));
    first.searchParams.set("per_page", String(perPage));
    first.searchParams.set("cursor", "initial");

    const requested = new Set<string>();
    let url: URL | null = first;
    for (let n = 1; url !== null; n++) {
      requested.add(url.href);
      const { text, value } = await this.get(url, readEventsPage);
      const link = value.results.length > 0 ? nextLink(value) : null;
      let next: URL | null = null;
      if (link !== null) {
        next = this.followable(link, url);
        if (requested.has(next.href)) {
          throw new SparkpostPagingError(
            `${PROVIDER} paging loops: ${this.shown(url)} points back to ${this.shown(next)}, already read in this traversal`,
            this.shown(next),
          );
        }
      }
      yield {
        label: `events page ${n}`,
        url: this.shown(url),
        body: text,
        items: value.results,
        next: next === null ? null : this.shown(next),
        totalCount: value.total_count ?? null,
      };
      url = next;
    }
  }

  /**
   * `GET /api/v1/metrics/deliverability/domain` over [start, end] (whole minutes, widened): SparkPost's own
   * counts per recipient domain. Its taxonomy is not ours (count_bounce includes out-of-band, admin includes
   * rejections), so compare trends and orders of magnitude, not exact equality.
   */
  async deliverabilityByDomain(query: SparkpostDeliverabilityQuery): Promise<SparkpostDeliverability> {
    const slices = query.domains === undefined ? [null] : domainSlices(query.domains);
    const rows: SparkpostDomainDeliverability[] = [];
    let truncated = false;
    for (const slice of slices) {
      const url = this.url(SPARKPOST_DELIVERABILITY_DOMAIN_PATH);
      setWindow(url, query.start, query.end);
      url.searchParams.set("metrics", DELIVERABILITY_METRICS.join(","));
      url.searchParams.set("limit", String(METRICS_LIMIT));
      if (slice !== null) url.searchParams.set("domains", slice.join(","));
      const { value } = await this.get(url, readMetrics);
      if (value.results.length >= METRICS_LIMIT) truncated = true;
      for (const r of value.results) {
        rows.push({
          domain: r.domain.toLowerCase(),
          targeted: r.count_targeted,
          sent: r.count_sent,
          delivered: r.count_delivered,
          bounced: {
            total: r.count_bounce,
            hard: r.count_hard_bounce,
            soft: r.count_soft_bounce,
            block: r.count_block_bounce,
            admin: r.count_admin_bounce,
            undetermined: r.count_undetermined_bounce,
          },
        });
      }
    }
    return { rows, truncated };
  }

  /** One GET with retries; a 4xx other than 429 fails at once with SparkPost's own words. */
  private async get<T>(url: URL, read: (text: string) => T): Promise<{ text: string; value: T }> {
    const res = await this.http.request<Answer<T>>({
      url,
      // SparkPost takes the bare key, no scheme.
      headers: { Authorization: this.options.apiKey },
      acceptStatuses: ANSWERED_4XX,
      parse: (text, status) =>
        status >= 200 && status < 300 ? { ok: true, value: read(text) } : { ok: false, said: errorsOf(text) },
    });
    if (res.value.ok) return { text: res.text, value: res.value.value };
    const shown = this.shown(url);
    const said = this.http.redact(res.value.said);
    if (res.status === 401 || res.status === 403) {
      throw new ProviderFetchError(
        `${PROVIDER} refused the API key (HTTP ${res.status}) for ${shown}: ${said}. Check the key, that it ` +
          `may read Message Events and Metrics, and the account's region (${this.options.region}): keys work ` +
          "only on their own region's host.",
        "auth",
        shown,
        res.status,
        1,
      );
    }
    throw new ProviderFetchError(
      `${PROVIDER} answered HTTP ${res.status} for ${shown}: ${said}`,
      "http",
      shown,
      res.status,
      1,
    );
  }

  private url(path: string): URL {
    const u = new URL(this.baseUrl.href);
    u.pathname = `${u.pathname.replace(/\/+$/, "")}${path}`;
    u.search = "";
    return u;
  }

  /** A next link is followed only on the API's own origin: the Authorization header must not leave it. */
  private followable(link: string, from: URL): URL {
    let next: URL;
    try {
      next = new URL(link, from);
    } catch {
      throw new SparkpostPagingError(
        `${PROVIDER} next link is not a URL: ${JSON.stringify(this.http.redact(link))}`,
        this.shown(from),
      );
    }
    if (next.origin !== this.baseUrl.origin) {
      throw new SparkpostPagingError(
        `${PROVIDER} next link leaves the API host (${next.origin}, expected ${this.baseUrl.origin}); refusing to follow`,
        this.shown(next),
      );
    }
    return next;
  }

  private shown(url: URL): string {
    return this.http.redact(url.href);
  }
}

/** `rel: "next"` of the links array (or `links.next`); null on the last page. */
function nextLink(page: EventsPage): string | null {
  const links = page.links;
  if (links === null || links === undefined) return null;
  if (Array.isArray(links)) return links.find((l) => l.rel === "next")?.href ?? null;
  return links.next ?? null;
}

/** `from` floored and `to` ceiled to whole minutes, in SparkPost's `YYYY-MM-DDTHH:MM`, UTC. */
function setWindow(url: URL, start: Date, end: Date): void {
  if (!(start.getTime() < end.getTime())) {
    throw new RangeError(`start must be before end, got ${start.toISOString()} – ${end.toISOString()}`);
  }
  url.searchParams.set("from", sparkpostMinute(start, "floor"));
  url.searchParams.set("to", sparkpostMinute(end, "ceil"));
  url.searchParams.set("timezone", "UTC");
}

/** `2024-05-29T10:21` (UTC), rounded to the minute in the given direction. */
export function sparkpostMinute(d: Date, round: "floor" | "ceil"): string {
  const minute = 60_000;
  const ms = round === "floor" ? Math.floor(d.getTime() / minute) : Math.ceil(d.getTime() / minute);
  return new Date(ms * minute).toISOString().slice(0, 16);
}

/** Domains, lower-cased and unique, in slices whose comma list stays far below SparkPost's URI cap. */
function domainSlices(domains: readonly string[]): string[][] {
  const unique = [...new Set(domains.map((d) => d.trim().toLowerCase()).filter((d) => d !== ""))];
  const slices: string[][] = [];
  let current: string[] = [];
  let chars = 0;
  for (const d of unique) {
    if (current.length > 0 && chars + d.length + 1 > MAX_DOMAINS_PARAM_CHARS) {
      slices.push(current);
      current = [];
      chars = 0;
    }
    current.push(d);
    chars += d.length + 1;
  }
  if (current.length > 0) slices.push(current);
  return slices;
}

/** `message (code): description; …` from SparkPost's error body, else an excerpt of the text. */
function errorsOf(text: string): string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = ErrorsSchema.safeParse(json);
  if (!parsed.success || parsed.data.errors.length === 0) {
    return text.trim() === "" ? "(empty body)" : JSON.stringify(text.slice(0, 200));
  }
  const said = parsed.data.errors
    .map((e) => {
      const head = `${e.message ?? "error"}${e.code !== undefined ? ` (code ${e.code})` : ""}`;
      return e.description ? `${head}: ${e.description}` : head;
    })
    .join("; ");
  // Messages end up in logs and alarms: enough to act on, not a whole body.
  return said.length > 500 ? `${said.slice(0, 500)}…` : said;
}
