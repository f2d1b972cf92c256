import * as z from "zod";
import {
  ProviderFetchError,
  ProviderHttpClient,
  type ProviderHttpOptions,
} from "../../../http/provider-http-client.ts";
import { ISO_INSTANT } from "../provider-record.ts";
import { easternWallClockInstants, toEasternWallClock } from "./eastern-time.ts";

/*
 * Postmark's pull APIs (docs/sources.md#postmark), read page by page through ProviderHttpClient (Retry-After on 429,
 * jittered backoff on 5xx / network errors / malformed pages, no retry on a refused token or another 4xx).
 *
 * What each mode gives the hard-bounce rate:
 *   - bouncePages (GET /bounces): bounces only — numerators (hard, soft, block) and drops. NO denominator:
 *     Postmark has no per-recipient "delivered" in this API, so a rate cannot be computed from bounces alone
 *     (deliverystats and /stats/outbound are server-wide, without a recipient-domain dimension).
 *   - outboundPages (GET /messages/outbound, status=sent): one "sent" event per (message, recipient) —
 *     messages handed off by Postmark, per recipient domain, not confirmed deliveries. A denominator of sends;
 *     note that outcomes.ts counts only delivered + bounced as attempts, so "sent" needs wiring there.
 *   - the Delivery webhook (buffered elsewhere, mapped by mapPostmarkDelivery) is the only per-recipient
 *     "delivered" source: the true denominator.
 *
 * Paging: count ≤ 500 and count + offset ≤ 10,000 per query, results newest first. A window whose TotalCount
 * would need offsets past the ceiling is bisected by time until every part fits; a one-second window that
 * still does not fit cannot be narrowed by date (Postmark's filters have whole seconds) and is an error.
 * fromdate/todate are US Eastern wall-clock times; each query is widened to whole seconds (and across the
 * repeated fall-back hour, whichever way Postmark reads it), and items are then kept only inside the caller's
 * half-open window [start, end), so adjacent windows yield each record once. Read closed windows (end in the
 * past): new records shift offsets while paging, which can repeat a record (dedupe by event id downstream).
 */

export const POSTMARK_BASE_URL = "https://api.postmarkapp.com";
/** count + offset may not exceed this (https://postmarkapp.com/developer/api/bounce-api). */
export const POSTMARK_RESULT_CEILING = 10_000;
/** Largest `count` per request. */
export const POSTMARK_MAX_COUNT = 500;
/** Postmark's error code for "Bounce not found" (verify; a 404 is read the same way). */
export const POSTMARK_BOUNCE_NOT_FOUND = 407;

export type PostmarkHttpOptions = Pick<
  ProviderHttpOptions,
  "fetch" | "sleep" | "random" | "timeoutMs" | "maxAttempts"
>;

export interface PostmarkClientOptions extends PostmarkHttpOptions {
  /** A Server token (X-Postmark-Server-Token); an Account token is refused with 401. */
  readonly serverToken: string;
  /** Default https://api.postmarkapp.com (tests: a local server). */
  readonly baseUrl?: string;
}

/** One response page: `body` is the exact response text (land it raw), `items` the records inside the window. */
export interface PostmarkPage {
  /** e.g. `bounces 2026-05-01T00:00:00..2026-05-01T06:00:00 ET offset 500`: a record ref prefix. */
  readonly label: string;
  readonly body: string;
  readonly items: unknown[];
  /** TotalCount of the query this page belongs to. */
  readonly totalCount: number;
}

export interface BouncePagesQuery {
  readonly start: Date;
  /** Exclusive. */
  readonly end: Date;
  /** Per page, 1..500 (default 500). */
  readonly count?: number;
  /** Postmark defaults to the transactional stream ("outbound"); broadcast streams need their own read. */
  readonly messageStream?: string;
}

export interface OutboundPagesQuery extends BouncePagesQuery {
  /** Default "sent": messages Postmark handed off. */
  readonly status?: "sent" | "queued" | "processed";
}

export type ActivateStatus = "activated" | "not_activatable" | "not_found";

export interface ActivateResult {
  readonly id: string;
  readonly status: ActivateStatus;
  /** Postmark's ErrorCode when it refused, else null. */
  readonly errorCode: number | null;
  /** Postmark's Message (the activation's "OK", or the refusal), else null. */
  readonly message: string | null;
}

/** Postmark refused a request: carries its `{ErrorCode, Message}` body. */
export class PostmarkApiError extends ProviderFetchError {
  constructor(
    message: string,
    kind: "auth" | "http",
    url: string,
    status: number,
    readonly errorCode: number | null,
    readonly apiMessage: string | null,
  ) {
    super(message, kind, url, status, 1);
  }
}

/** A time window that cannot be read completely within Postmark's 10,000-result ceiling. */
export class PostmarkWindowError extends Error {
  override readonly name = "PostmarkWindowError";
}

const AUTH_HINT =
  "it must be a Server token, not an Account token (X-Postmark-Server-Token, from the server's API Tokens tab)";
const SECOND = 1000;
const HOUR = 3_600_000;
// Statuses whose {ErrorCode, Message} body we read ourselves; 429 and 5xx stay with ProviderHttpClient (retries).
const ANSWER_STATUSES = [400, 401, 403, 404, 405, 409, 410, 413, 415, 422] as const;

const ErrorBodySchema = z.looseObject({
  ErrorCode: z.number().int().nullish(),
  Message: z.string().nullish(),
});
/** A listing page: TotalCount and the records (Postmark may send null for an empty list). */
function pageSchema(key: "Bounces" | "Messages") {
  return z
    .looseObject({ TotalCount: z.number().int().nonnegative(), [key]: z.array(z.unknown()).nullish() })
    .transform((v) => ({
      total: v.TotalCount as number,
      items: (v[key] as unknown[] | null | undefined) ?? [],
    }));
}
const PAGE_SCHEMAS = { Bounces: pageSchema("Bounces"), Messages: pageSchema("Messages") };
const CanActivateSchema = z.looseObject({ ID: z.unknown(), CanActivate: z.boolean() });
const ActivatedSchema = z.looseObject({ Message: z.string().nullish() });

interface Listing {
  readonly what: "bounces" | "messages";
  readonly path: string;
  readonly arrayKey: "Bounces" | "Messages";
  readonly timeField: "BouncedAt" | "ReceivedAt";
  readonly params: Readonly<Record<string, string>>;
  readonly count: number;
}

/** A 4xx answer with Postmark's `{ErrorCode, Message}` body. */
interface Refusal {
  readonly ok: false;
  readonly status: number;
  readonly errorCode: number | null;
  readonly message: string;
}

type Answer<T> = { readonly ok: true; readonly value: T } | Refusal;
type CallResult<T> = { readonly ok: true; readonly value: T; readonly body: string } | Refusal;

interface RawPage {
  readonly body: string;
  readonly total: number;
  readonly items: unknown[];
}

export class PostmarkClient {
  private readonly http: ProviderHttpClient;
  private readonly baseUrl: URL;

  constructor(private readonly options: PostmarkClientOptions) {
    if (options.serverToken.trim() === "") throw new Error("PostmarkClient: serverToken is empty");
    this.baseUrl = new URL(options.baseUrl ?? POSTMARK_BASE_URL);
    const { fetch, sleep, random, timeoutMs, maxAttempts } = options;
    this.http = new ProviderHttpClient({
      fetch,
      sleep,
      random,
      timeoutMs,
      maxAttempts,
      provider: "Postmark",
      secrets: [options.serverToken],
      authHint: AUTH_HINT,
    });
  }

  /** GET /bounces over [start, end), every bounce once (see the notes at the top). */
  bouncePages(query: BouncePagesQuery): AsyncGenerator<PostmarkPage, void, undefined> {
    return this.windowPages(query, {
      what: "bounces",
      path: "/bounces",
      arrayKey: "Bounces",
      timeField: "BouncedAt",
      params: query.messageStream ? { messagestream: query.messageStream } : {},
      count: pageCount(query.count),
    });
  }

  /** GET /messages/outbound over [start, end) by ReceivedAt: the sends (see the notes at the top). */
  outboundPages(query: OutboundPagesQuery): AsyncGenerator<PostmarkPage, void, undefined> {
    return this.windowPages(query, {
      what: "messages",
      path: "/messages/outbound",
      arrayKey: "Messages",
      timeField: "ReceivedAt",
      params: {
        status: query.status ?? "sent",
        ...(query.messageStream ? { messagestream: query.messageStream } : {}),
      },
      count: pageCount(query.count),
    });
  }

  /**
   * Re-enables sending to an address Postmark deactivated after this bounce. The bounce is read first and
   * PUT /bounces/{id}/activate sent only when its CanActivate is true: Postmark's refusal code for the other
   * case is undocumented. A refusal of the PUT itself (422) is also `not_activatable`, with its code.
   * A monitor should not call this on its own (docs/sources.md#postmark): it is for an operator's explicit request.
   */
  async activateBounce(id: number | string): Promise<ActivateResult> {
    const bounceId = String(id).trim();
    if (!/^[1-9]\d{0,19}$/.test(bounceId)) throw new RangeError(`not a Postmark bounce id: ${String(id)}`);
    const url = this.url(`/bounces/${bounceId}`);
    const got = await this.call(url, "GET", CanActivateSchema);
    if (!got.ok) {
      if (isNotFound(got)) return { id: bounceId, status: "not_found", ...refusal(got) };
      throw this.apiError(url, got);
    }
    if (!got.value.CanActivate) {
      return { id: bounceId, status: "not_activatable", errorCode: null, message: "CanActivate is false" };
    }
    const putUrl = this.url(`/bounces/${bounceId}/activate`);
    const put = await this.call(putUrl, "PUT", ActivatedSchema);
    if (put.ok)
      return { id: bounceId, status: "activated", errorCode: null, message: put.value.Message ?? null };
    if (isNotFound(put)) return { id: bounceId, status: "not_found", ...refusal(put) };
    if (put.status === 422) return { id: bounceId, status: "not_activatable", ...refusal(put) };
    throw this.apiError(putUrl, put);
  }

  private async *windowPages(
    query: BouncePagesQuery,
    listing: Listing,
  ): AsyncGenerator<PostmarkPage, void, undefined> {
    const start = query.start.getTime();
    const end = query.end.getTime();
    if (!Number.isFinite(start) || !Number.isFinite(end))
      throw new RangeError("start and end must be valid dates");
    if (end <= start) throw new RangeError(`empty window: end ${query.end.toISOString()} is not after start`);
    // Queries have whole seconds: widen outward; items outside [start, end) are filtered afterwards.
    const s = Math.floor(start / SECOND) * SECOND;
    const e = Math.ceil(end / SECOND) * SECOND;
    yield* this.readWindow(listing, start, end, s, e);
  }

  /** Query seconds [s, e), keeping items timed in [keepFrom, keepTo) ∩ [s, e). */
  private async *readWindow(
    listing: Listing,
    keepFrom: number,
    keepTo: number,
    s: number,
    e: number,
  ): AsyncGenerator<PostmarkPage, void, undefined> {
    const fromdate = safeFromDate(s);
    const todate = safeToDate(e);
    const keep = { from: Math.max(keepFrom, s), to: Math.min(keepTo, e) };
    // What Postmark may return for these bounds, whichever way it reads an ambiguous hour.
    const queried = {
      from: Math.min(...easternWallClockInstants(fromdate).map((d) => d.getTime())),
      to: Math.max(...easternWallClockInstants(todate).map((d) => d.getTime())) + SECOND,
    };
    const first = await this.fetchPage(listing, fromdate, todate, 0, listing.count);
    if (first.total > POSTMARK_RESULT_CEILING - listing.count) {
      if (e - s <= SECOND) {
        throw new PostmarkWindowError(
          `Postmark ${listing.what}: ${first.total} results within one second (${fromdate} ET) exceed what ` +
            `count + offset ≤ ${POSTMARK_RESULT_CEILING} can page through, and a date window cannot be narrower ` +
            "than a second; read that second by other filters (type, tag, message stream)",
        );
      }
      const mid = s + Math.floor((e - s) / (2 * SECOND)) * SECOND;
      yield* this.readWindow(listing, keepFrom, keepTo, s, mid);
      yield* this.readWindow(listing, keepFrom, keepTo, mid, e);
      return;
    }
    let page = first;
    let offset = 0;
    for (;;) {
      yield {
        label: `${listing.what} ${fromdate}..${todate} ET offset ${offset}`,
        body: page.body,
        items: page.items.filter((item) => inWindow(item, listing.timeField, keep, queried)),
        totalCount: page.total,
      };
      offset += listing.count;
      if (page.items.length === 0 || offset >= page.total) return;
      const count = Math.min(listing.count, POSTMARK_RESULT_CEILING - offset);
      if (count <= 0) {
        throw new PostmarkWindowError(
          `Postmark ${listing.what} ${fromdate}..${todate} ET grew to ${page.total} results while being read, ` +
            `past the ${POSTMARK_RESULT_CEILING} ceiling; read windows that have closed`,
        );
      }
      page = await this.fetchPage(listing, fromdate, todate, offset, count);
    }
  }

  private async fetchPage(
    listing: Listing,
    fromdate: string,
    todate: string,
    offset: number,
    count: number,
  ): Promise<RawPage> {
    const url = this.url(listing.path);
    url.searchParams.set("count", String(count));
    url.searchParams.set("offset", String(offset));
    url.searchParams.set("fromdate", fromdate);
    url.searchParams.set("todate", todate);
    for (const [k, v] of Object.entries(listing.params)) url.searchParams.set(k, v);
    const answer = await this.call(url, "GET", PAGE_SCHEMAS[listing.arrayKey]);
    if (!answer.ok) throw this.apiError(url, answer);
    return { body: answer.body, ...answer.value };
  }

  /** One request; a 2xx body must match `schema` (else it is malformed and retried), a 4xx comes back as an answer. */
  private async call<S extends z.ZodType>(
    url: URL,
    method: "GET" | "PUT",
    schema: S,
  ): Promise<CallResult<z.infer<S>>> {
    const res = await this.http.request({
      url,
      method,
      headers: { "X-Postmark-Server-Token": this.options.serverToken },
      acceptStatuses: ANSWER_STATUSES,
      parse: (text, status): Answer<z.infer<S>> => {
        if (status >= 200 && status < 300) return { ok: true, value: parseBody(schema, text) };
        return { ok: false, status, ...errorBody(text) };
      },
    });
    const a = res.value;
    return a.ok ? { ok: true, value: a.value, body: res.text } : a;
  }

  private apiError(url: URL, a: Refusal): PostmarkApiError {
    const shown = this.http.redact(url.href);
    const what = `HTTP ${a.status}${a.errorCode === null ? "" : `, ErrorCode ${a.errorCode}`}: ${JSON.stringify(this.http.redact(a.message).slice(0, 300))}`;
    const auth = a.status === 401 || a.status === 403;
    return new PostmarkApiError(
      auth
        ? `Postmark refused the token (${what}) for ${shown}: ${AUTH_HINT}`
        : `Postmark answered ${what} for ${shown}`,
      auth ? "auth" : "http",
      shown,
      a.status,
      a.errorCode,
      a.message,
    );
  }

  private url(path: string): URL {
    const u = new URL(this.baseUrl.href);
    u.pathname = `${u.pathname.replace(/\/+$/, "")}${path}`;
    u.search = "";
    return u;
  }
}

function pageCount(count: number | undefined): number {
  const c = count ?? POSTMARK_MAX_COUNT;
  if (!Number.isInteger(c) || c < 1 || c > POSTMARK_MAX_COUNT) {
    throw new RangeError(`count must be an integer in [1, ${POSTMARK_MAX_COUNT}], got ${String(count)}`);
  }
  return c;
}

/**
 * A fromdate that Postmark reads as ≤ ms whichever way it resolves the repeated fall-back hour: 01:30 on that
 * night may mean EDT or EST, so a bound in the first 01:xx moves back an hour (widening, never narrowing).
 */
function safeFromDate(ms: number): string {
  let t = ms;
  for (;;) {
    const wall = toEasternWallClock(t);
    if (easternWallClockInstants(wall).every((d) => d.getTime() <= ms)) return wall;
    t -= HOUR;
  }
}

/** A todate that Postmark reads as ≥ ms however it resolves the repeated hour (see safeFromDate). */
function safeToDate(ms: number): string {
  let t = ms;
  for (;;) {
    const wall = toEasternWallClock(t);
    if (easternWallClockInstants(wall).every((d) => d.getTime() >= ms)) return wall;
    t += HOUR;
  }
}

/**
 * Keeps an item timed inside the window. One timed outside it but inside the queried range belongs to a
 * neighbouring window, which yields it; one outside even the queried range (Postmark filtered on another
 * clock than the item's) or without a readable time is kept, for the mapper and the dedupe to judge.
 */
function inWindow(
  item: unknown,
  field: string,
  keep: { from: number; to: number },
  queried: { from: number; to: number },
): boolean {
  const raw =
    typeof item === "object" && item !== null ? (item as Record<string, unknown>)[field] : undefined;
  const t = typeof raw === "string" && ISO_INSTANT.test(raw.trim()) ? Date.parse(raw.trim()) : Number.NaN;
  if (Number.isNaN(t)) return true;
  if (t >= keep.from && t < keep.to) return true;
  return t < queried.from || t >= queried.to;
}

function parseBody<S extends z.ZodType>(schema: S, text: string): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error("not JSON");
  }
  const r = schema.safeParse(json);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue?.path.length ? issue.path.map(String).join(".") : "(root)";
  throw new Error(`${where}: ${issue?.message ?? "invalid"}`);
}

/** Postmark's `{ErrorCode, Message}`; the raw text when the body is something else. */
function errorBody(text: string): { errorCode: number | null; message: string } {
  try {
    const r = ErrorBodySchema.safeParse(JSON.parse(text));
    if (r.success && (r.data.ErrorCode != null || r.data.Message != null)) {
      return { errorCode: r.data.ErrorCode ?? null, message: r.data.Message ?? "" };
    }
  } catch {
    // Not JSON: the text itself is the message.
  }
  return { errorCode: null, message: text.slice(0, 300) };
}

function isNotFound(a: Refusal): boolean {
  return a.status === 404 || (a.status === 422 && a.errorCode === POSTMARK_BOUNCE_NOT_FOUND);
}

function refusal(a: Refusal): Pick<ActivateResult, "errorCode" | "message"> {
  return { errorCode: a.errorCode, message: a.message };
}
