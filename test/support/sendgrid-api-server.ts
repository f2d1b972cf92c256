import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { drain, sendJson } from "./http-helpers.ts";

/*
 * A local SendGrid v3 Suppressions API (docs/sources.md#sendgrid) on 127.0.0.1: GET /v3/suppression/{bounces,blocks}
 * with start_time/end_time (epoch seconds, inclusive, on `created`) and limit/offset paging, and
 * DELETE /v3/suppression/{kind}/{email} (204, or 404 for an address not listed), every DELETE recorded.
 * A key other than the configured Bearer key gets SendGrid's 401 body. Faults are queued and answer the next
 * matching requests before the key is checked: 429 (Retry-After and/or X-RateLimit-Reset), 5xx, malformed JSON.
 */

export type SuppressionKind = "bounces" | "blocks";

export interface SuppressionEntry {
  readonly created: number;
  readonly email: string;
  readonly reason: string;
  readonly status: string;
}

export type SendgridApiFault =
  | {
      readonly kind: "rate-limit";
      /** Retry-After header; null leaves it out (default "1"). */
      readonly retryAfter?: string | null;
      /** X-RateLimit-Reset header (epoch seconds); null leaves it out (default: now + 1 s). */
      readonly reset?: string | null;
    }
  | { readonly kind: "server-error"; readonly status?: number }
  /** 200 with a body that is not JSON. */
  | { readonly kind: "malformed" };

export interface FaultMatch {
  readonly method?: "GET" | "DELETE";
  /** Exact path, e.g. `/v3/suppression/bounces`. */
  readonly path?: string;
  /** How many matching requests get the fault (default 1). */
  readonly times?: number;
}

export interface RecordedSendgridApiRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly authorization: string | undefined;
  readonly accept: string | undefined;
  readonly status: number;
  readonly fault: SendgridApiFault["kind"] | null;
}

export interface RecordedDelete {
  readonly kind: SuppressionKind;
  readonly email: string;
  readonly status: 204 | 404;
}

export interface SendgridApiServer {
  /** http://127.0.0.1:<port> */
  readonly baseUrl: string;
  readonly requests: readonly RecordedSendgridApiRequest[];
  /** Authorized DELETE calls, in order. */
  readonly deletes: readonly RecordedDelete[];
  /** Current list contents (DELETE removes entries). */
  list(kind: SuppressionKind): readonly SuppressionEntry[];
  fail(fault: SendgridApiFault, match?: FaultMatch): void;
  stop(): Promise<void>;
}

export interface SendgridApiServerOptions {
  readonly apiKey: string;
  readonly bounces?: readonly SuppressionEntry[];
  readonly blocks?: readonly SuppressionEntry[];
  /** Misbehave: answer every list request as if offset were 0 (a paging loop). */
  readonly ignoreOffset?: boolean;
}

const LIST_PATH = /^\/v3\/suppression\/(bounces|blocks)$/;
const ITEM_PATH = /^\/v3\/suppression\/(bounces|blocks)\/([^/]+)$/;

export async function startSendgridApiServer(options: SendgridApiServerOptions): Promise<SendgridApiServer> {
  const lists: Record<SuppressionKind, SuppressionEntry[]> = {
    bounces: [...(options.bounces ?? [])],
    blocks: [...(options.blocks ?? [])],
  };
  const faults: Array<{ fault: SendgridApiFault; match: FaultMatch; left: number }> = [];
  const requests: RecordedSendgridApiRequest[] = [];
  const deletes: RecordedDelete[] = [];

  const server = createServer((req, res) => {
    drain(req).then(
      () => {
        const url = new URL(req.url ?? "/", "http://localhost");
        const { status, fault } = answer(req, url, res);
        requests.push({
          method: req.method ?? "",
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          authorization: req.headers.authorization,
          accept: req.headers.accept,
          status,
          fault,
        });
      },
      () => res.destroy(),
    );
  });

  function takeFault(method: string, path: string): SendgridApiFault | null {
    const i = faults.findIndex(
      (f) => (f.match.method === undefined || f.match.method === method) && (f.match.path ?? path) === path,
    );
    const f = faults[i];
    if (!f) return null;
    if (--f.left <= 0) faults.splice(i, 1);
    return f.fault;
  }

  function answer(
    req: IncomingMessage,
    url: URL,
    res: ServerResponse,
  ): { status: number; fault: SendgridApiFault["kind"] | null } {
    const method = req.method ?? "GET";
    const fault = takeFault(method, url.pathname);
    if (fault) return { status: sendFault(res, fault), fault: fault.kind };
    if (req.headers.authorization !== `Bearer ${options.apiKey}`) {
      return { status: sendJson(res, 401, errors(null, "authorization required")), fault: null };
    }
    const list = LIST_PATH.exec(url.pathname);
    if (list) {
      if (method !== "GET")
        return { status: sendJson(res, 405, errors(null, "method not allowed")), fault: null };
      return { status: listPage(req, url, res, list[1] as SuppressionKind), fault: null };
    }
    const item = ITEM_PATH.exec(url.pathname);
    if (item && method === "DELETE") {
      const kind = item[1] as SuppressionKind;
      const email = decodeURIComponent(item[2] as string);
      const entries = lists[kind];
      const at = entries.findIndex((e) => e.email.toLowerCase() === email.toLowerCase());
      const status = at < 0 ? 404 : 204;
      if (at >= 0) entries.splice(at, 1);
      deletes.push({ kind, email, status });
      if (status === 204) {
        res.writeHead(204);
        res.end();
        return { status, fault: null };
      }
      return { status: sendJson(res, 404, errors("email", "email not found")), fault: null };
    }
    return { status: sendJson(res, 404, errors(null, "resource not found")), fault: null };
  }

  function listPage(req: IncomingMessage, url: URL, res: ServerResponse, kind: SuppressionKind): number {
    // SendGrid: the bounces endpoint requires Accept: application/json.
    if (kind === "bounces" && !(req.headers.accept ?? "").includes("application/json")) {
      return sendJson(res, 406, errors(null, "Accept: application/json required"));
    }
    const q = url.searchParams;
    const ints: Record<string, number | undefined> = {};
    for (const name of ["start_time", "end_time", "limit", "offset"]) {
      const v = q.get(name);
      if (v === null) continue;
      if (!/^\d+$/.test(v)) return sendJson(res, 400, errors(name, `${name} must be a non-negative integer`));
      ints[name] = Number(v);
    }
    const limit = ints.limit ?? 500;
    if (limit < 1 || limit > 500)
      return sendJson(res, 400, errors("limit", "limit must be between 1 and 500"));
    const offset = options.ignoreOffset ? 0 : (ints.offset ?? 0);
    const start = ints.start_time ?? 0;
    const end = ints.end_time ?? Number.MAX_SAFE_INTEGER;
    const rows = lists[kind]
      .filter((e) => e.created >= start && e.created <= end)
      // Newest first, then by address: a stable order, so offsets page it exactly.
      .sort((a, b) => b.created - a.created || (a.email < b.email ? -1 : a.email > b.email ? 1 : 0))
      .slice(offset, offset + limit);
    return sendJson(res, 200, JSON.stringify(rows));
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    deletes,
    list: (kind) => [...lists[kind]],
    fail(fault, match = {}) {
      faults.push({ fault, match, left: match.times ?? 1 });
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

function sendFault(res: ServerResponse, fault: SendgridApiFault): number {
  switch (fault.kind) {
    case "rate-limit": {
      const headers: Record<string, string> = { "x-ratelimit-limit": "600", "x-ratelimit-remaining": "0" };
      const retryAfter = fault.retryAfter === undefined ? "1" : fault.retryAfter;
      const reset = fault.reset === undefined ? String(Math.floor(Date.now() / 1000) + 1) : fault.reset;
      if (retryAfter !== null) headers["retry-after"] = retryAfter;
      if (reset !== null) headers["x-ratelimit-reset"] = reset;
      return sendJson(res, 429, errors(null, "too many requests"), headers);
    }
    case "server-error":
      return sendJson(res, fault.status ?? 500, errors(null, "internal error"));
    case "malformed":
      return sendJson(res, 200, '[{"created": 1717000000, "email": "trunc');
  }
}

function errors(field: string | null, message: string): string {
  return JSON.stringify({ errors: [{ field, message }] });
}
