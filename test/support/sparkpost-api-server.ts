import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { drain, sendJson } from "./http-helpers.ts";

/*
 * A local SparkPost speaking the Events and Metrics contracts of docs/sources.md#sparkpost over real HTTP:
 *   GET /api/v1/events/message?from&to&timezone&events&per_page&cursor
 *       → {results (newest first), total_count, links: [{href, rel: "first" | "next"}]}, `next` relative and
 *         carrying the cursor, absent on the last page;
 *   GET /api/v1/metrics/deliverability/domain?from&to&metrics&domains&limit → {results: [{domain, count_*}]}
 * with the raw API key in Authorization, SparkPost's error bodies `{errors: [{message, code, description}]}`,
 * and scripted faults, so the client is tested against behaviour rather than mocks.
 */

/**
 * rate-limit: 429 with Retry-After. server-error: 500. malformed: a 200 whose JSON is cut off. off-host: the
 * page as usual, but its next link points at another host. loop: the page as usual, its next link pointing
 * back at the page just served.
 */
export type SparkpostFaultKind = "rate-limit" | "server-error" | "malformed" | "off-host" | "loop";

export interface SparkpostFault {
  readonly kind: SparkpostFaultKind;
  /** 1-based page of an events traversal it hits (the `cursor=initial` request is page 1). */
  readonly page?: number;
  /** 1-based number of the request it hits, over every request the server receives. */
  readonly request?: number;
  /** How many requests it answers (default 1); `Infinity` for one that persists. */
  readonly times?: number;
  /** rate-limit: the Retry-After header (default "1", seconds); null sends none. */
  readonly retryAfter?: string | null;
}

export interface SparkpostApiServerOptions {
  readonly apiKey: string;
  /** Events API items (ISO `timestamp`, `type`, `event_id`, ...). */
  readonly events?: readonly Record<string, unknown>[];
  /** Metrics rows as the API returns them: `{domain, count_targeted, ...}`; only requested metrics are sent. */
  readonly metricsRows?: readonly Record<string, unknown>[];
  readonly faults?: readonly SparkpostFault[];
}

export interface SparkpostRequestRecord {
  readonly n: number;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly authorized: boolean;
  page: number | null;
  fault: SparkpostFaultKind | null;
  status: number;
}

export interface SparkpostApiServer {
  /** http://127.0.0.1:<port> */
  readonly baseUrl: string;
  readonly log: readonly SparkpostRequestRecord[];
  stop(): Promise<void>;
}

export const EVENTS_PATH = "/api/v1/events/message";
export const DELIVERABILITY_DOMAIN_PATH = "/api/v1/metrics/deliverability/domain";
const MINUTE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/;
const MAX_PER_PAGE = 10_000;
/** The `events` filter values SparkPost accepts (message, generation, engagement, unsubscribe). */
const EVENT_TYPES: ReadonlySet<string> = new Set([
  "delivery",
  "injection",
  "bounce",
  "delay",
  "policy_rejection",
  "out_of_band",
  "spam_complaint",
  "generation_failure",
  "generation_rejection",
  "open",
  "initial_open",
  "click",
  "amp_open",
  "amp_initial_open",
  "amp_click",
  "list_unsubscribe",
  "link_unsubscribe",
]);
const MAX_LIMIT = 10_000;

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string,
    readonly description?: string,
  ) {
    super(message);
  }
}

interface Cursor {
  /** Offset into the query's matches. */
  readonly o: number;
  /** Page number. */
  readonly p: number;
}

export async function startSparkpostApiServer(
  options: SparkpostApiServerOptions,
): Promise<SparkpostApiServer> {
  const events = [...(options.events ?? [])].sort(
    (a, b) => Date.parse(String(b.timestamp)) - Date.parse(String(a.timestamp)),
  );
  const faults = (options.faults ?? []).map((f) => ({ ...f, left: f.times ?? 1 }));
  const log: SparkpostRequestRecord[] = [];

  const server = createServer((req, res) => {
    drain(req).then(
      () => {
        try {
          handle(req, res);
        } catch (e) {
          // A bug in the fake shows as a 500 with its message, not a hung test.
          if (!res.headersSent) sendJson(res, 500, errors(String(e), "9999"));
        }
      },
      () => res.destroy(),
    );
  });

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://localhost");
    const entry: SparkpostRequestRecord = {
      n: log.length + 1,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      authorized: req.headers.authorization === options.apiKey,
      page: null,
      fault: null,
      status: 0,
    };
    log.push(entry);
    const answer = (status: number, body: string, headers: Record<string, string> = {}) => {
      entry.status = status;
      sendJson(res, status, body, headers);
    };
    try {
      if (!entry.authorized) throw new ApiError(401, "Unauthorized.", "1100", "Invalid API key");
      if (req.method !== "GET") throw new ApiError(405, "Method not allowed", "1001");
      if (url.pathname === EVENTS_PATH) {
        const cursor = cursorOf(url.searchParams);
        entry.page = cursor.p;
        const fault = faults.find(
          (f) => f.left > 0 && ((f.request !== undefined && f.request === entry.n) || f.page === cursor.p),
        );
        if (fault) {
          fault.left -= 1;
          entry.fault = fault.kind;
        }
        const body = () => eventsPage(url, cursor, fault?.kind);
        switch (fault?.kind) {
          case "rate-limit": {
            const retryAfter = fault.retryAfter === undefined ? "1" : fault.retryAfter;
            answer(
              429,
              errors("Too many requests", "1701"),
              retryAfter === null ? {} : { "Retry-After": retryAfter },
            );
            return;
          }
          case "server-error":
            answer(500, errors("Internal server error", "1500"));
            return;
          case "malformed": {
            const text = body();
            answer(200, text.slice(0, Math.max(1, Math.floor(text.length / 2))));
            return;
          }
          default:
            answer(200, body());
            return;
        }
      }
      if (url.pathname === DELIVERABILITY_DOMAIN_PATH) {
        answer(200, metricsPage(url.searchParams));
        return;
      }
      throw new ApiError(404, "Resource could not be found", "1600");
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      answer(e.status, errors(e.message, e.code, e.description));
    }
  }

  function window(q: URLSearchParams): { from: number; to: number } {
    const from = q.get("from");
    const to = q.get("to");
    for (const [name, v] of [
      ["from", from],
      ["to", to],
    ] as const) {
      if (v !== null && !MINUTE.test(v)) {
        throw new ApiError(400, `invalid ${name} parameter`, "1200", `${name} must be YYYY-MM-DDTHH:MM`);
      }
    }
    const tz = q.get("timezone");
    if (tz !== null && tz !== "UTC") throw new ApiError(400, "unsupported timezone", "1200", tz);
    return {
      from: from === null ? 0 : Date.parse(`${from}:00Z`),
      to: to === null ? Number.MAX_SAFE_INTEGER : Date.parse(`${to}:00Z`),
    };
  }

  function cursorOf(q: URLSearchParams): Cursor {
    const raw = q.get("cursor");
    if (raw === null || raw === "initial") return { o: 0, p: 1 };
    try {
      const c = JSON.parse(Buffer.from(raw, "base64url").toString("utf8")) as Cursor;
      if (Number.isInteger(c.o) && Number.isInteger(c.p)) return c;
    } catch {
      // fall through
    }
    throw new ApiError(400, "invalid cursor", "1200");
  }

  function eventsPage(url: URL, c: Cursor, fault: SparkpostFaultKind | undefined): string {
    const q = url.searchParams;
    const { from, to } = window(q);
    const perPage = Number(q.get("per_page") ?? "1000");
    if (!Number.isInteger(perPage) || perPage < 1 || perPage > MAX_PER_PAGE) {
      throw new ApiError(400, "invalid per_page parameter", "1200", `per_page must be 1..${MAX_PER_PAGE}`);
    }
    const types = q.get("events");
    const wanted = types === null ? null : new Set(types.split(","));
    for (const t of wanted ?? []) {
      if (!EVENT_TYPES.has(t)) {
        throw new ApiError(400, "invalid events parameter", "1200", `unknown event type: ${t}`);
      }
    }
    const matches = events.filter((e) => {
      const t = Date.parse(String(e.timestamp));
      return t >= from && t < to && (wanted === null || wanted.has(String(e.type)));
    });
    const results = matches.slice(c.o, c.o + perPage);
    const link = (cursor: Cursor) => {
      const u = new URL(url.href);
      u.searchParams.set("cursor", Buffer.from(JSON.stringify(cursor)).toString("base64url"));
      return `${u.pathname}${u.search}`;
    };
    const links: { href: string; rel: string }[] = [{ href: link({ o: 0, p: 1 }), rel: "first" }];
    const more = c.o + results.length < matches.length;
    if (fault === "off-host") {
      links.push({
        href: `https://evil.example${link({ o: c.o + results.length, p: c.p + 1 })}`,
        rel: "next",
      });
    } else if (fault === "loop") {
      links.push({ href: `${url.pathname}${url.search}`, rel: "next" });
    } else if (more) {
      links.push({ href: link({ o: c.o + results.length, p: c.p + 1 }), rel: "next" });
    }
    return JSON.stringify({ results, total_count: matches.length, links });
  }

  function metricsPage(q: URLSearchParams): string {
    window(q);
    const metrics = q.get("metrics");
    if (metrics === null || metrics === "") {
      throw new ApiError(400, "metrics parameter is required", "1400");
    }
    const names = metrics.split(",");
    const limit = Number(q.get("limit") ?? "1000");
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw new ApiError(400, "invalid limit parameter", "1200");
    }
    const domains = q.get("domains");
    const wanted = domains === null ? null : new Set(domains.split(",").map((d) => d.toLowerCase()));
    const results = (options.metricsRows ?? [])
      .filter((r) => wanted === null || wanted.has(String(r.domain).toLowerCase()))
      .slice(0, limit)
      .map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => k === "domain" || names.includes(k))));
    return JSON.stringify({ results });
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    log,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

function errors(message: string, code: string, description?: string): string {
  return JSON.stringify({ errors: [{ message, code, ...(description ? { description } : {}) }] });
}
