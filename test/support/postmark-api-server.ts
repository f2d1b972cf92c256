import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type Disambiguation,
  fromEasternWallClock,
  toEasternWallClock,
} from "../../shared/sources/esp/postmark/eastern-time.ts";
import { drain, sendJson } from "./http-helpers.ts";

/*
 * A local Postmark speaking the pull contracts of docs/sources.md#postmark over real HTTP:
 *   GET /bounces?count&offset[&fromdate&todate&type&messagestream]   → {TotalCount, Bounces}, newest first
 *   GET /messages/outbound?count&offset[&fromdate&todate&status&messagestream] → {TotalCount, Messages}
 *   GET /bounces/{id}  and  PUT /bounces/{id}/activate (calls recorded)
 * with X-Postmark-Server-Token auth (401 {ErrorCode: 10}), count ≤ 500 and count + offset ≤ 10,000 enforced
 * (422), fromdate/todate read as US Eastern wall clock, inclusive, to the second. Faults are queued.
 * Postmark documents 422 + {ErrorCode, Message} for request errors but not every code: those marked
 * "unverified" below are this fake's choice, and the client must not depend on them.
 */

export const ERROR_BAD_TOKEN = 10;
/** "Bounce not found" (per client libraries; unverified). */
export const ERROR_BOUNCE_NOT_FOUND = 407;
/** A bad bounce/message query, the ceiling included (unverified). */
export const ERROR_QUERY = 408;
/** Activation refused because CanActivate is false (undocumented: unverified). */
export const ERROR_NOT_ACTIVATABLE = 0;

export interface PostmarkFault {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Default: a Postmark-style error body, or for a 200 a JSON page cut off halfway. */
  readonly body?: string;
  /** Only requests whose path starts with this (default: any). */
  readonly path?: string;
}

export interface PostmarkRequestRecord {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly token: string | undefined;
  readonly status: number;
}

export interface PostmarkApiServer {
  /** http://127.0.0.1:<port> */
  readonly baseUrl: string;
  readonly requests: readonly PostmarkRequestRecord[];
  /** Bounce ids of every PUT /bounces/{id}/activate, in order, whatever the answer. */
  readonly activateCalls: readonly string[];
  bounce(id: number): Record<string, unknown> | undefined;
  /** Queues faults: each answers the next matching request instead of the normal answer. */
  failNext(...faults: PostmarkFault[]): void;
  stop(): Promise<void>;
}

export interface PostmarkServerOptions {
  readonly serverToken: string;
  readonly bounces?: readonly Record<string, unknown>[];
  readonly messages?: readonly Record<string, unknown>[];
  /** How the fake reads a wall-clock time of the repeated fall-back hour (default earlier, i.e. EDT). */
  readonly ambiguousAs?: Disambiguation;
}

interface Indexed {
  readonly ms: number;
  readonly id: string;
  readonly record: Record<string, unknown>;
}

const WALL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

export async function startPostmarkApiServer(options: PostmarkServerOptions): Promise<PostmarkApiServer> {
  // Newest first, as Postmark sorts; ties by id so offsets are stable.
  const index = (records: readonly Record<string, unknown>[], field: string, idField: string): Indexed[] =>
    records
      .map((record) => ({ ms: Date.parse(String(record[field])), id: String(record[idField]), record }))
      .sort((a, b) => b.ms - a.ms || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const bounces = index(options.bounces ?? [], "BouncedAt", "ID");
  const messages = index(options.messages ?? [], "ReceivedAt", "MessageID");
  const byId = new Map(bounces.map((b) => [b.id, b.record]));
  const faults: PostmarkFault[] = [];
  const requests: PostmarkRequestRecord[] = [];
  const activateCalls: string[] = [];
  const ambiguousAs = options.ambiguousAs ?? "earlier";

  const server = createServer((req, res) => {
    drain(req).then(
      () => {
        const url = new URL(req.url ?? "/", "http://localhost");
        const token = header(req, "x-postmark-server-token");
        const status = answer(req, url, token, res);
        requests.push({
          method: req.method ?? "GET",
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          token,
          status,
        });
      },
      () => res.destroy(),
    );
  });

  function answer(req: IncomingMessage, url: URL, token: string | undefined, res: ServerResponse): number {
    const faultAt = faults.findIndex((f) => f.path === undefined || url.pathname.startsWith(f.path));
    if (faultAt >= 0) {
      const [fault] = faults.splice(faultAt, 1);
      if (fault) return sendJson(res, fault.status, fault.body ?? faultBody(fault.status), fault.headers);
    }
    if (token === undefined || token === "") {
      return error(res, 401, ERROR_BAD_TOKEN, "No Server API token was supplied in the HTTP headers.");
    }
    if (token !== options.serverToken) {
      return error(res, 401, ERROR_BAD_TOKEN, "Request does not contain a valid Server token.");
    }
    const method = req.method ?? "GET";
    const path = url.pathname;
    if (method === "GET" && path === "/bounces") return list(res, url, bounces, "Bounces");
    if (method === "GET" && path === "/messages/outbound") return list(res, url, messages, "Messages");
    const one = /^\/bounces\/(\d+)$/.exec(path);
    if (method === "GET" && one) {
      const b = byId.get(one[1] ?? "");
      return b
        ? sendJson(res, 200, JSON.stringify(b))
        : error(res, 422, ERROR_BOUNCE_NOT_FOUND, "Bounce not found.");
    }
    const activate = /^\/bounces\/(\d+)\/activate$/.exec(path);
    if (method === "PUT" && activate) {
      const id = activate[1] ?? "";
      activateCalls.push(id);
      const b = byId.get(id);
      if (!b) return error(res, 422, ERROR_BOUNCE_NOT_FOUND, "Bounce not found.");
      if (b.CanActivate !== true) {
        return error(res, 422, ERROR_NOT_ACTIVATABLE, "This bounce cannot be activated.");
      }
      b.Inactive = false;
      return sendJson(res, 200, JSON.stringify({ Message: "OK", Bounce: b }));
    }
    return error(res, 404, 0, `No such endpoint: ${method} ${path}`);
  }

  function list(res: ServerResponse, url: URL, all: readonly Indexed[], key: "Bounces" | "Messages"): number {
    const q = url.searchParams;
    const count = Number(q.get("count") ?? Number.NaN);
    const offset = Number(q.get("offset") ?? Number.NaN);
    if (!Number.isInteger(count) || !Number.isInteger(offset) || count < 1 || offset < 0) {
      return error(res, 422, ERROR_QUERY, "count and offset are required non-negative integers.");
    }
    if (count > 500) return error(res, 422, ERROR_QUERY, "count may not exceed 500.");
    if (count + offset > 10_000) return error(res, 422, ERROR_QUERY, "count + offset may not exceed 10,000.");
    let from = Number.NEGATIVE_INFINITY;
    let to = Number.POSITIVE_INFINITY;
    try {
      const fromdate = q.get("fromdate");
      const todate = q.get("todate");
      if (fromdate !== null) from = easternBound(fromdate, "from", ambiguousAs);
      if (todate !== null) to = easternBound(todate, "to", ambiguousAs);
    } catch (e) {
      return error(res, 422, ERROR_QUERY, (e as Error).message);
    }
    const stream = q.get("messagestream") ?? "outbound";
    const type = q.get("type");
    const status = q.get("status");
    const matching = all.filter(
      ({ ms, record }) =>
        ms >= from &&
        ms <= to &&
        (record.MessageStream ?? "outbound") === stream &&
        (type === null || record.Type === type) &&
        (status === null || String(record.Status ?? "").toLowerCase() === status.toLowerCase()),
    );
    const page = matching.slice(offset, offset + count).map((m) => m.record);
    return sendJson(res, 200, JSON.stringify({ TotalCount: matching.length, [key]: page }));
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    activateCalls,
    bounce: (id) => byId.get(String(id)),
    failNext(...f) {
      faults.push(...f);
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** A date filter in Eastern time, inclusive: a bare day covers the whole day. */
function easternBound(value: string, side: "from" | "to", ambiguousAs: Disambiguation): number {
  if (DAY.test(value)) {
    return fromEasternWallClock(
      `${value}T${side === "from" ? "00:00:00" : "23:59:59"}`,
      ambiguousAs,
    ).getTime();
  }
  if (!WALL.test(value)) throw new Error(`${side}date is not a date: ${value}`);
  return fromEasternWallClock(value, ambiguousAs).getTime();
}

/**
 * `2026-05-01T10:21:03.1230000-04:00`: how Postmark writes BouncedAt/ReceivedAt — Eastern local time with its
 * offset and seven fraction digits.
 */
export function postmarkTimestamp(ms: number): string {
  const whole = Math.floor(ms / 1000) * 1000;
  const wall = toEasternWallClock(whole);
  const offsetMin = Math.round((Date.parse(`${wall}Z`) - whole) / 60_000);
  const sign = offsetMin < 0 ? "-" : "+";
  const abs = Math.abs(offsetMin);
  const hh = String(Math.floor(abs / 60)).padStart(2, "0");
  const mm = String(abs % 60).padStart(2, "0");
  return `${wall}.${String(ms - whole).padStart(3, "0")}0000${sign}${hh}:${mm}`;
}

/** A Bounce object as GET /bounces returns it; `overrides` replace fields (undefined removes one). */
export function postmarkBounce(
  id: number,
  ms: number,
  overrides: Readonly<Record<string, unknown>> = {},
): Record<string, unknown> {
  const base: Record<string, unknown> = {
    RecordType: "Bounce",
    ID: id,
    Type: "HardBounce",
    TypeCode: 1,
    Name: "Hard bounce",
    Tag: "welcome",
    MessageID: `5c0e8c4e-0000-4000-8000-${String(id).padStart(12, "0")}`,
    ServerID: 23,
    MessageStream: "outbound",
    Description: "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
    Details: "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
    Email: `user${id}@acme-corp.com`,
    From: "notifications@example.com",
    BouncedAt: postmarkTimestamp(ms),
    DumpAvailable: true,
    Inactive: true,
    CanActivate: true,
    Subject: "Welcome aboard",
  };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete base[k];
    else base[k] = v;
  }
  return base;
}

function faultBody(status: number): string {
  if (status === 200) return '{"TotalCount": 3, "Bounces": [{"ID": 1, ';
  if (status === 429) return JSON.stringify({ ErrorCode: 429, Message: "Rate limit exceeded." });
  return JSON.stringify({ ErrorCode: 0, Message: `Injected HTTP ${status}` });
}

function error(res: ServerResponse, status: number, code: number, message: string): number {
  return sendJson(res, status, JSON.stringify({ ErrorCode: code, Message: message }));
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
