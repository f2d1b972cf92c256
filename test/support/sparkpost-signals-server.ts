import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { drain, sendJson } from "./http-helpers.ts";

/*
 * A local SparkPost Signals health-score endpoint, shaped after what SparkPost's own web app (2web2ui) calls
 * and reads (no public reference exists): GET /api/v1/signals/health-score/sending_domain?from&to&limit&offset
 * with the raw API key in Authorization, answered {"results": {"total_count", "data": [{sending_domain, sid,
 * current_health_score, history: [{dt, health_score, total_injection_count}]}]}}; scores are decimal strings,
 * as in 2web2ui's fixtures. An account without Signals answers 404. Faults are queued.
 */

export const SIGNALS_HEALTH_PATH = "/api/v1/signals/health-score/sending_domain";

export interface FakeHealthRow {
  readonly domain: string;
  /** Subaccount id; 0 is the primary account (default). */
  readonly sid?: number;
  /** Day → health score as a 0–1 fraction (null: a day without a score). */
  readonly scores: Readonly<Record<string, number | null>>;
}

export interface RecordedSignalsRequest {
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly authorization: string | undefined;
  readonly status: number;
}

export interface SignalsFault {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface SparkpostSignalsServer {
  /** http://127.0.0.1:<port> */
  readonly baseUrl: string;
  readonly requests: readonly RecordedSignalsRequest[];
  setRows(rows: readonly FakeHealthRow[]): void;
  /** false: the account has no Signals, every call is a 404. */
  setSignalsEnabled(enabled: boolean): void;
  failNext(fault: SignalsFault): void;
  stop(): Promise<void>;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export async function startSparkpostSignalsServer(options: {
  apiKey: string;
  rows?: readonly FakeHealthRow[];
  signalsEnabled?: boolean;
  /** Caps `limit`, to make the client page (default 1000). */
  maxPageSize?: number;
}): Promise<SparkpostSignalsServer> {
  let rows: readonly FakeHealthRow[] = options.rows ?? [];
  let enabled = options.signalsEnabled ?? true;
  const maxPageSize = options.maxPageSize ?? 1000;
  const faults: SignalsFault[] = [];
  const requests: RecordedSignalsRequest[] = [];

  const server = createServer((req, res) => {
    drain(req).then(
      () => {
        const url = new URL(req.url ?? "/", "http://localhost");
        const status = answer(req, url, res);
        requests.push({
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          authorization: req.headers.authorization,
          status,
        });
      },
      () => res.destroy(),
    );
  });

  function answer(req: IncomingMessage, url: URL, res: ServerResponse): number {
    const fault = faults.shift();
    if (fault)
      return sendJson(res, fault.status, fault.body ?? errors(`injected ${fault.status}`), fault.headers);
    if (req.headers.authorization !== options.apiKey) return sendJson(res, 401, errors("Unauthorized."));
    if (req.method !== "GET" || url.pathname !== SIGNALS_HEALTH_PATH || !enabled) {
      return sendJson(res, 404, errors("resource not found", "1600"));
    }
    const from = url.searchParams.get("from") ?? "";
    const to = url.searchParams.get("to") ?? "";
    if (!DATE.test(from) || !DATE.test(to) || from > to) {
      return sendJson(res, 400, errors("from and to must be dates, from not after to", "1300"));
    }
    const limit = Math.min(Number(url.searchParams.get("limit") ?? 10), maxPageSize);
    const offset = Number(url.searchParams.get("offset") ?? 0);
    const data = rows.map((r) => {
      const history = Object.entries(r.scores)
        .filter(([dt]) => dt >= from && dt <= to)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([dt, score]) => ({
          dt,
          health_score: score === null ? null : score.toFixed(10),
          total_injection_count: 50_000,
        }));
      const last = history.at(-1);
      return {
        sending_domain: r.domain,
        sid: r.sid ?? 0,
        current_health_score: last?.health_score ?? null,
        WoW: null,
        history,
      };
    });
    const page = data.slice(offset, offset + limit);
    return sendJson(res, 200, JSON.stringify({ results: { total_count: data.length, data: page } }));
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    setRows(r) {
      rows = r;
    },
    setSignalsEnabled(e) {
      enabled = e;
    },
    failNext(fault) {
      faults.push(fault);
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

function errors(message: string, code?: string): string {
  return JSON.stringify({ errors: [{ message, ...(code ? { code } : {}) }] });
}
