import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import * as z from "zod";

/*
 * A local Mailgun speaking the two pull contracts of docs/sources.md#mailgun over real HTTP:
 *   GET  /v3/{domain}/events[?begin&end&ascending&limit&event]   and   GET /v3/{domain}/events/{page token}
 *   POST /v1/analytics/logs  {start, end, events, pagination: {sort, limit, token}}
 * with Basic auth (user `api`), per-domain and time filtering, `paging.next` URLs pointing back here, a final
 * empty page, and scripted faults (429, 500, hang, stalled body, malformed body, duplicate page, slow answer), so the client
 * is tested against behaviour rather than mocks.
 */

/**
 * rate-limit: 429 with Retry-After. server-error: 500. hang: never answers. stall: sends the headers and half
 * the body, then nothing. malformed: a 200 whose JSON is cut off. duplicate: the previous page again, verbatim.
 * slow: the normal answer after `delayMs`.
 */
export type MailgunFaultKind =
  | "rate-limit"
  | "server-error"
  | "hang"
  | "stall"
  | "malformed"
  | "duplicate"
  | "slow";

export interface MailgunFault {
  readonly kind: MailgunFaultKind;
  /** 1-based number of the request it hits, counted over every request the server receives. */
  readonly request?: number;
  /** 1-based page of a traversal it hits (the request without a page token is page 1); retries hit it again. */
  readonly page?: number;
  /** How many requests the fault answers (default 1); `Infinity` for a fault that persists. */
  readonly times?: number;
  /** rate-limit: the Retry-After header (default "1", seconds). */
  readonly retryAfter?: string;
  /** slow: the delay before the normal answer (default 300 ms). */
  readonly delayMs?: number;
}

export interface MailgunServerOptions {
  readonly apiKey: string;
  /** Events API shaped records (float `timestamp`); the Logs API serves them with `@timestamp` instead. */
  readonly events: readonly unknown[];
  readonly faults?: readonly MailgunFault[];
  /** The account's sending domains; other domains get 404. Default: any domain is known. */
  readonly domains?: readonly string[];
}

export interface MailgunRequestRecord {
  readonly n: number;
  readonly method: string;
  /** Path and query string. */
  readonly path: string;
  /** Parsed JSON body of a POST, else null. */
  readonly body: unknown;
  /** The traversal page it asked for, when the request got that far. */
  page: number | null;
  fault: MailgunFaultKind | null;
  /** The status answered; null for a hung request. */
  status: number | null;
}

export interface MailgunServer {
  readonly baseUrl: string;
  /** Path and query of every request, in arrival order. */
  readonly requests: readonly string[];
  readonly log: readonly MailgunRequestRecord[];
  stop(): Promise<void>;
}

/** Mailgun's documented page size limit for the Events API (newer pages say 300). */
const EVENTS_MAX_LIMIT = 300;
const LOGS_MAX_LIMIT = 1000;

interface Indexed {
  /** Epoch seconds. */
  readonly ts: number;
  readonly event: string;
  readonly domain: string | null;
  readonly record: Record<string, unknown>;
}

const EventsCursor = z.object({
  d: z.string(),
  b: z.number(),
  e: z.number(),
  a: z.boolean(),
  l: z.number().int(),
  f: z.array(z.string()).nullable(),
  o: z.number().int(),
  p: z.number().int(),
});
type EventsCursor = z.infer<typeof EventsCursor>;

const LogsCursor = z.object({ o: z.number().int(), p: z.number().int() });

const LogsBody = z.looseObject({
  start: z.string().optional(),
  end: z.string().optional(),
  events: z.array(z.string()).optional(),
  pagination: z
    .looseObject({
      sort: z.string().optional(),
      limit: z.number().int().optional(),
      token: z.string().optional(),
    })
    .optional(),
});

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startMailgunServer(options: MailgunServerOptions): Promise<MailgunServer> {
  const expectedAuth = `Basic ${Buffer.from(`api:${options.apiKey}`).toString("base64")}`;
  const index = indexEvents(options.events);
  const faults = (options.faults ?? []).map((f) => ({ ...f, left: f.times ?? 1 }));
  const domains = options.domains ? new Set(options.domains.map((d) => d.toLowerCase())) : null;
  const requests: string[] = [];
  const log: MailgunRequestRecord[] = [];
  const timers = new Set<NodeJS.Timeout>();
  // Filtered lists per query, so a 50k-event traversal does not refilter for every page.
  const matchCache = new Map<string, Indexed[]>();
  let lastPageBody: string | null = null;
  let baseUrl = "";

  const server = createServer((req, res) => {
    void handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, JSON.stringify({ message: String(e) }));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = req.url ?? "/";
    requests.push(path);
    let body: unknown = null;
    if (raw !== "") {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
    }
    const entry: MailgunRequestRecord = {
      n: log.length + 1,
      method: req.method ?? "GET",
      path,
      body,
      page: null,
      fault: null,
      status: null,
    };
    log.push(entry);
    const answer = (status: number, text: string, headers: Record<string, string> = {}) => {
      entry.status = status;
      send(res, status, text, headers);
    };

    if (req.headers.authorization !== expectedAuth) {
      answer(401, "Forbidden", { "Content-Type": "text/plain" });
      return;
    }
    let page: { number: number; body: () => string };
    try {
      page = route(entry.method, new URL(path, "http://x"), body);
    } catch (e) {
      if (!(e instanceof HttpError)) throw e;
      answer(e.status, JSON.stringify({ message: e.message }));
      return;
    }
    entry.page = page.number;

    const fault = faults.find(
      (f) => f.left > 0 && ((f.request !== undefined && f.request === entry.n) || f.page === page.number),
    );
    if (fault) {
      fault.left -= 1;
      entry.fault = fault.kind;
    }
    switch (fault?.kind) {
      case "rate-limit":
        answer(429, JSON.stringify({ message: "Too many requests" }), {
          "Retry-After": fault.retryAfter ?? "1",
        });
        return;
      case "server-error":
        answer(500, "Internal Server Error", { "Content-Type": "text/plain" });
        return;
      case "hang":
        // Never answer: the client's timeout has to cut it; stop() destroys the socket.
        return;
      case "stall": {
        const text = page.body();
        entry.status = 200;
        res.writeHead(200, {
          "Content-Type": "application/json",
          "Content-Length": String(Buffer.byteLength(text)),
        });
        res.write(text.slice(0, Math.floor(text.length / 2)));
        return;
      }
      case "malformed": {
        const text = page.body();
        // A response cut off mid-body, as a proxy or a crashed worker leaves it.
        answer(200, text.slice(0, Math.max(1, Math.floor(text.length / 2))));
        return;
      }
      case "duplicate":
        // The previous page again, verbatim (its next link included).
        answer(200, lastPageBody ?? page.body());
        return;
      case "slow": {
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (res.destroyed) return;
          const text = page.body();
          lastPageBody = text;
          answer(200, text);
        }, fault.delayMs ?? 300);
        timers.add(timer);
        return;
      }
      default: {
        const text = page.body();
        lastPageBody = text;
        answer(200, text);
      }
    }
  }

  /** Resolves the request to a page: its number (for page faults) and how to render it. */
  function route(method: string, url: URL, body: unknown): { number: number; body: () => string } {
    const events = /^\/v3\/([^/]+)\/events(?:\/([^/]+))?\/?$/.exec(url.pathname);
    if (events && method === "GET") {
      const domain = decodeURIComponent(events[1] ?? "").toLowerCase();
      if (domains && !domains.has(domain)) throw new HttpError(404, `Domain not found: ${domain}`);
      const token = events[2];
      const cursor =
        token === undefined ? firstEventsCursor(domain, url.searchParams) : decode(EventsCursor, token);
      if (cursor.d !== domain) throw new HttpError(400, "page token belongs to another domain");
      return { number: cursor.p, body: () => eventsPage(cursor) };
    }
    if (url.pathname === "/v1/analytics/logs" && method === "POST") {
      const parsed = LogsBody.safeParse(body);
      if (!parsed.success) throw new HttpError(400, `invalid body: ${parsed.error.issues[0]?.message ?? ""}`);
      const q = parsed.data;
      const cursor =
        q.pagination?.token === undefined ? { o: 0, p: 1 } : decode(LogsCursor, q.pagination.token);
      return { number: cursor.p, body: () => logsPage(q, cursor) };
    }
    throw new HttpError(404, `no route for ${method} ${url.pathname}`);
  }

  function firstEventsCursor(domain: string, q: URLSearchParams): EventsCursor {
    const begin = q.has("begin") ? timeParam(q.get("begin") ?? "", "begin") : 0;
    const end = q.has("end") ? timeParam(q.get("end") ?? "", "end") : Number.POSITIVE_INFINITY;
    const ascending = q.get("ascending") === "yes";
    const limit = Math.min(EVENTS_MAX_LIMIT, Math.max(1, Number(q.get("limit") ?? "100") || 100));
    const filter = q.get("event");
    return {
      d: domain,
      b: begin,
      e: Number.isFinite(end) ? end : Number.MAX_SAFE_INTEGER,
      a: ascending,
      l: limit,
      // Only `a OR b OR c` expressions: what bounce-radar sends.
      f: filter ? filter.split(/\s+OR\s+/).map((s) => s.trim()) : null,
      o: 0,
      p: 1,
    };
  }

  function eventsPage(c: EventsCursor): string {
    const key = JSON.stringify([c.d, c.b, c.e, c.a, c.f]);
    let matches = matchCache.get(key);
    if (!matches) {
      const f = c.f === null ? null : new Set(c.f);
      matches = index.filter(
        (x) =>
          (x.domain === null || x.domain === c.d) &&
          x.ts >= c.b &&
          x.ts < c.e &&
          (f === null || f.has(x.event)),
      );
      if (!c.a) matches.reverse();
      matchCache.set(key, matches);
    }
    const items = matches.slice(c.o, c.o + c.l).map((x) => x.record);
    const link = (cursor: EventsCursor) =>
      `${baseUrl}/v3/${encodeURIComponent(c.d)}/events/${encode(cursor)}`;
    // An empty page's next points at the same position: re-reading it later yields newer events (§2.2).
    const next = { ...c, o: c.o + items.length, p: c.p + 1 };
    return JSON.stringify({
      items,
      paging: {
        next: link(next),
        previous: link({ ...c, o: Math.max(0, c.o - c.l), p: c.p + 1 }),
        first: link({ ...c, o: 0, p: c.p + 1 }),
        last: link({ ...c, o: Math.max(0, matches.length - c.l), p: c.p + 1 }),
      },
    });
  }

  function logsPage(q: z.infer<typeof LogsBody>, c: z.infer<typeof LogsCursor>): string {
    const start = q.start ? timeParam(q.start, "start") : 0;
    const end = q.end ? timeParam(q.end, "end") : Number.MAX_SAFE_INTEGER;
    const limit = Math.min(LOGS_MAX_LIMIT, Math.max(1, q.pagination?.limit ?? 100));
    const sort = q.pagination?.sort ?? "timestamp:desc";
    const key = JSON.stringify(["logs", start, end, q.events ?? null, sort]);
    let matches = matchCache.get(key);
    if (!matches) {
      const f = q.events ? new Set(q.events) : null;
      matches = index.filter((x) => x.ts >= start && x.ts < end && (f === null || f.has(x.event)));
      if (sort !== "timestamp:asc") matches.reverse();
      matchCache.set(key, matches);
    }
    const items = matches.slice(c.o, c.o + limit).map((x) => logsItem(x));
    const more = c.o + items.length < matches.length;
    return JSON.stringify({
      start: q.start ?? null,
      end: q.end ?? null,
      items,
      pagination: {
        sort,
        limit,
        ...(more ? { next: encode({ o: c.o + items.length, p: c.p + 1 }) } : {}),
        total: matches.length,
      },
      aggregates: {},
    });
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    baseUrl,
    requests,
    log,
    stop: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}

function indexEvents(events: readonly unknown[]): Indexed[] {
  const out: Indexed[] = [];
  for (const e of events) {
    if (typeof e !== "object" || e === null) continue;
    const record = e as Record<string, unknown>;
    const t = record.timestamp;
    const iso = record["@timestamp"];
    const ts = typeof t === "number" ? t : typeof iso === "string" ? Date.parse(iso) / 1000 : Number.NaN;
    if (!Number.isFinite(ts)) continue;
    const dom = record.domain;
    const name = typeof dom === "object" && dom !== null ? (dom as Record<string, unknown>).name : undefined;
    out.push({
      ts,
      event: typeof record.event === "string" ? record.event : "",
      domain: typeof name === "string" ? name.toLowerCase() : null,
      record,
    });
  }
  // Stable: events sharing a timestamp keep their given order.
  return out.sort((a, b) => a.ts - b.ts);
}

/** A Logs API item: `@timestamp` ISO instead of float `timestamp` (§2.4). */
function logsItem(x: Indexed): Record<string, unknown> {
  const { timestamp: _drop, ...rest } = x.record;
  return { ...rest, "@timestamp": new Date(Math.round(x.ts * 1000)).toISOString() };
}

/** Epoch seconds or an RFC 2822 date, as Mailgun accepts both. */
function timeParam(value: string, name: string): number {
  if (/^\d+(?:\.\d+)?$/.test(value.trim())) return Number(value);
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new HttpError(400, `${name}: not a date: ${value}`);
  return ms / 1000;
}

function encode(cursor: object): string {
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

function decode<S extends z.ZodType>(schema: S, token: string): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw new HttpError(400, "invalid page token");
  }
  const r = schema.safeParse(json);
  if (!r.success) throw new HttpError(400, "invalid page token");
  return r.data;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(text);
}

// ---------------------------------------------------------------------------------------------------------
// Deterministic event generator
// ---------------------------------------------------------------------------------------------------------
