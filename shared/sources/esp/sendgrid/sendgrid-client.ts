import * as z from "zod";
import { type ProviderEvent, ProviderEventSchema } from "../../../domain/events/normalized-event.ts";
import { domainOfAddress } from "../../../domain/organisations/organisation-of.ts";
import { jsonBody, ProviderHttpClient } from "../../../http/provider-http-client.ts";
import {
  SENDGRID_BASE_URLS,
  type SendgridHttpOptions,
  type SendgridRegion,
} from "../../reputation/sendgrid/sendgrid-reputation-source.ts";
import {
  formatPath,
  type MappedRecord,
  mapRecordSafely,
  RecordError,
  type RecordMapper,
} from "../provider-record.ts";
import { emailOf, epochSecondsToIso, smtpReply } from "./map-sendgrid-event.ts";

export { SENDGRID_BASE_URLS, type SendgridRegion };

/*
 * SendGrid's Suppressions API for bounces and blocks (docs/sources.md#sendgrid): one record per suppressed address
 * (the latest), so it serves history backfill and repair, never per-send rates. Requests go through
 * ProviderHttpClient (Retry-After on 429, backoff on 5xx, stop on a refused key). SendGrid drives backoff
 * with X-RateLimit-Reset (epoch seconds) rather than Retry-After; that header is translated here.
 */

export type SuppressionKind = "bounces" | "blocks";

export interface SendgridClientOptions extends SendgridHttpOptions {
  /** Needs suppression.read (and suppression.delete for deleteSuppression). */
  readonly apiKey: string;
  readonly region: SendgridRegion;
  /** Overrides the region's base URL (tests: a local server). */
  readonly baseUrl?: string;
  /** A parent account acting for a subuser: sent as the `on-behalf-of` header. */
  readonly onBehalfOf?: string;
}

export interface SuppressionPagesQuery {
  /** Records created at or after (whole seconds, rounded down). */
  readonly start: Date;
  /** Records created at or before (whole seconds, rounded up; SendGrid's end_time is inclusive). */
  readonly end: Date;
  /** Page size, 1–500 (default 500). */
  readonly limit?: number;
  /** Refuse to read more pages than this (default 10 000): a server that never sends a short page stops. */
  readonly maxPages?: number;
}

/** One response page. `body` is the exact response text, for landing raw. */
export interface SuppressionPage {
  /** e.g. `bounces offset 500`: names the page in refs and messages. */
  readonly label: string;
  readonly body: string;
  readonly items: unknown[];
  readonly offset: number;
}

export type DeleteResult = { readonly status: "deleted" | "not_found" };

/** Paging that cannot be trusted to end or to be complete. */
export class SendgridPagingError extends Error {
  override readonly name = "SendgridPagingError";
}

const PROVIDER = "SendGrid";
const MAX_LIMIT = 500;
const DEFAULT_MAX_PAGES = 10_000;
const readPage = jsonBody(z.array(z.unknown()));

export class SendgridClient {
  private readonly client: ProviderHttpClient;
  private readonly baseUrl: URL;
  private readonly headers: Readonly<Record<string, string>>;

  constructor(options: SendgridClientOptions) {
    this.baseUrl = new URL(options.baseUrl ?? SENDGRID_BASE_URLS[options.region]);
    const { sleep, random, timeoutMs, maxAttempts } = options;
    this.client = new ProviderHttpClient({
      fetch: withRateLimitReset(options.fetch ?? fetch),
      sleep,
      random,
      timeoutMs,
      maxAttempts,
      provider: PROVIDER,
      secrets: [options.apiKey],
      authHint: `check the API key, its region (${options.region}) and its suppression scopes`,
    });
    this.headers = {
      Authorization: `Bearer ${options.apiKey}`,
      // The bounces endpoint requires it (ProviderHttpClient sends it too; stated so it cannot be lost).
      Accept: "application/json",
      ...(options.onBehalfOf ? { "on-behalf-of": options.onBehalfOf } : {}),
    };
  }

  /**
   * `GET /v3/suppression/{kind}` over [start, end] by creation time, offset paging until a page shorter than
   * `limit` (that page is yielded too, even when empty).
   */
  async *suppressionPages(
    kind: SuppressionKind,
    query: SuppressionPagesQuery,
  ): AsyncGenerator<SuppressionPage, void, undefined> {
    const limit = query.limit ?? MAX_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw new RangeError(`limit must be an integer in [1, ${MAX_LIMIT}], got ${query.limit}`);
    }
    if (query.start.getTime() > query.end.getTime()) {
      throw new RangeError(`start (${query.start.toISOString()}) is after end (${query.end.toISOString()})`);
    }
    const maxPages = query.maxPages ?? DEFAULT_MAX_PAGES;
    let previousBody: string | null = null;
    for (let page = 0, offset = 0; ; page++, offset += limit) {
      if (page >= maxPages) {
        throw new SendgridPagingError(
          `SendGrid ${kind} paging did not end within ${maxPages} pages of ${limit}; narrow the window`,
        );
      }
      const url = this.url(`/v3/suppression/${kind}`);
      // Whole seconds widen the window rather than narrow it; overlap is deduplicated by id downstream.
      url.searchParams.set("start_time", String(Math.floor(query.start.getTime() / 1000)));
      url.searchParams.set("end_time", String(Math.ceil(query.end.getTime() / 1000)));
      url.searchParams.set("limit", String(limit));
      url.searchParams.set("offset", String(offset));
      const res = await this.client.request({ url, headers: this.headers, parse: readPage });
      const items = res.value;
      const label = `${kind} offset ${offset}`;
      // Offsets step by `limit`: a longer page would make the next offset skip or repeat records.
      if (items.length > limit) {
        throw new SendgridPagingError(`SendGrid ${label}: ${items.length} records for limit ${limit}`);
      }
      // A full page identical to the one before: the server ignores offset and would loop forever.
      if (items.length > 0 && res.text === previousBody) {
        throw new SendgridPagingError(`SendGrid ${label} repeats the page before it: offset ignored`);
      }
      yield { label, body: res.text, items, offset };
      if (items.length < limit) return;
      previousBody = res.text;
    }
  }

  /**
   * `DELETE /v3/suppression/{kind}/{email}`: SendGrid will send to the address again. 404 is "not_found" (also
   * what a retry after a lost 204 sees). For repair tooling only; a monitor never calls it.
   */
  async deleteSuppression(kind: SuppressionKind, email: string): Promise<DeleteResult> {
    const address = email.trim();
    if (address === "" || !address.includes("@") || /\s/.test(address)) {
      throw new RangeError(`not an email address: ${JSON.stringify(email)}`);
    }
    const res = await this.client.request<DeleteResult>({
      url: this.url(`/v3/suppression/${kind}/${encodeURIComponent(address)}`),
      method: "DELETE",
      headers: this.headers,
      acceptStatuses: [404],
      parse: (_text, status) => ({ status: status === 404 ? "not_found" : "deleted" }),
    });
    return res.value;
  }

  private url(path: string): URL {
    const u = new URL(this.baseUrl.href);
    u.pathname = `${u.pathname.replace(/\/+$/, "")}${path}`;
    u.search = "";
    return u;
  }
}

/**
 * A 429 without Retry-After gets one from X-RateLimit-Reset (epoch seconds; a small value is read as a delay),
 * so ProviderHttpClient waits until the limit resets instead of guessing with backoff.
 */
export function withRateLimitReset(fetchFn: typeof fetch, nowMs: () => number = Date.now): typeof fetch {
  return async (input, init) => {
    const res = await fetchFn(input, init);
    if (res.status !== 429 || res.headers.has("retry-after")) return res;
    const reset = res.headers.get("x-ratelimit-reset")?.trim() ?? "";
    if (!/^\d{1,12}$/.test(reset)) return res;
    const value = Number(reset);
    const seconds = value < 1_000_000_000 ? value : Math.max(0, Math.ceil(value - nowMs() / 1000));
    const headers = new Headers(res.headers);
    headers.set("retry-after", String(seconds));
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
  };
}

const SuppressionSchema = z.looseObject({
  created: z.unknown().optional(),
  email: z.string().optional(),
  reason: z.string().nullish(),
  status: z.string().nullish(),
});

/**
 * One suppression list entry (`{created, email, reason, status}`) as a bounced event, so history and repair
 * can read the lists with the webhook's tools. Bounces are SendGrid's hard bounces, blocks its blocks. The
 * id is per address and creation time: reading the list again maps to the same ids. These events are not
 * webhook events (different ids): do not count both in one rate.
 */
export function mapSendgridSuppression(kind: SuppressionKind, record: unknown): MappedRecord {
  return mapRecordSafely(() => {
    if (typeof record !== "object" || record === null || Array.isArray(record)) {
      throw new RecordError(
        `record: expected a JSON object, got ${record === null ? "null" : typeof record}`,
      );
    }
    const parsed = SuppressionSchema.safeParse(record);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new RecordError(`${formatPath(issue?.path ?? []) || "record"}: ${issue?.message ?? "invalid"}`);
    }
    const r = parsed.data;
    const occurredAt = epochSecondsToIso(r.created, "created");
    const recipient = emailOf(r.email, "email");
    const text = r.reason?.trim() || null;
    const status = r.status?.trim() || null;
    const event: ProviderEvent = {
      id: `sendgrid-suppression:${kind}:${recipient}:${String(r.created).trim()}`,
      source: "sendgrid",
      occurredAt,
      type: "bounced",
      recipient,
      recipientDomain: domainOfAddress(recipient) ?? "",
      smtp: smtpReply(status, text),
      espClass: kind === "bounces" ? "hard" : "block",
      mxHost: null,
      sendingIp: null,
      ipPool: null,
      messageId: null,
      campaign: null,
    };
    const valid = ProviderEventSchema.safeParse(event);
    if (!valid.success) {
      const issue = valid.error.issues[0];
      const field = formatPath(issue?.path ?? []);
      throw new RecordError(`${field === "recipient" ? "email" : field}: ${issue?.message ?? "invalid"}`);
    }
    return [valid.data];
  });
}

/** mapSendgridSuppression for one list, as a RecordMapper. */
export function sendgridSuppressionMapper(kind: SuppressionKind): RecordMapper {
  return (record) => mapSendgridSuppression(kind, record);
}
