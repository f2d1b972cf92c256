import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { drain, sendJson } from "./http-helpers.ts";

/*
 * A local SendGrid v3 API for the reputation reads (https://github.com/twilio/sendgrid-oai): GET /v3/user/account
 * ({type, reputation}) and GET /v3/engagementquality/scores?from&to (200 {result: [...]}, or 202 while the
 * scores are not computed). A key other than the configured one gets SendGrid's 401 body. Faults (429 with
 * Retry-After, 5xx, malformed bodies) are queued per path.
 */

export type SendgridPath = "/v3/user/account" | "/v3/engagementquality/scores";

export interface RecordedSendgridRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly authorization: string | undefined;
  readonly status: number;
}

/** A canned answer that replaces the normal one. */
export interface SendgridFault {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as is (default: a SendGrid-style error body). */
  readonly body?: string;
}

/** The SEQ answer: 202 (not computed yet) or the `result` rows of a 200. */
export type SeqAnswer = { readonly status: 202 } | { readonly result: readonly unknown[] };

export interface SendgridReputationServer {
  /** http://127.0.0.1:<port> */
  readonly baseUrl: string;
  readonly requests: readonly RecordedSendgridRequest[];
  setAccount(body: Record<string, unknown>): void;
  setSeq(answer: SeqAnswer): void;
  /** Answer the next request to `path` with `fault`, before checking the key. */
  failNext(path: SendgridPath, fault: SendgridFault): void;
  stop(): Promise<void>;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export async function startSendgridReputationServer(options: {
  apiKey: string;
  account?: Record<string, unknown>;
  seq?: SeqAnswer;
}): Promise<SendgridReputationServer> {
  let account: Record<string, unknown> = options.account ?? { type: "paid", reputation: 100 };
  let seq: SeqAnswer = options.seq ?? { result: [] };
  const faults = new Map<string, SendgridFault[]>();
  const requests: RecordedSendgridRequest[] = [];

  const server = createServer((req, res) => {
    drain(req).then(
      () => {
        const url = new URL(req.url ?? "/", "http://localhost");
        const status = answer(req, url, res);
        requests.push({
          method: req.method ?? "",
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
    const fault = faults.get(url.pathname)?.shift();
    if (fault) {
      const body =
        fault.body ?? JSON.stringify({ errors: [{ field: null, message: `injected ${fault.status}` }] });
      return sendJson(res, fault.status, body, fault.headers);
    }
    if (req.headers.authorization !== `Bearer ${options.apiKey}`) {
      return sendJson(res, 401, errors(null, "authorization required"));
    }
    if (req.method !== "GET") return sendJson(res, 405, errors(null, "method not allowed"));
    if (url.pathname === "/v3/user/account") return sendJson(res, 200, JSON.stringify(account));
    if (url.pathname === "/v3/engagementquality/scores") {
      const from = url.searchParams.get("from");
      const to = url.searchParams.get("to");
      for (const [name, v] of [
        ["from", from],
        ["to", to],
      ] as const) {
        if (v === null)
          return sendJson(res, 400, errors(name, `failed to parse request: "${name}" must be provided`));
        if (!DATE.test(v))
          return sendJson(res, 400, errors(name, `failed to parse request: "${name}" invalid`));
      }
      if ((from as string) > (to as string)) {
        return sendJson(res, 400, errors("to", 'failed to parse request: "from" cannot come after "to"'));
      }
      if ("status" in seq) return sendJson(res, 202, "");
      return sendJson(res, 200, JSON.stringify({ result: seq.result }));
    }
    return sendJson(res, 404, errors(null, "resource not found"));
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    setAccount(body) {
      account = body;
    },
    setSeq(a) {
      seq = a;
    },
    failNext(path, fault) {
      faults.set(path, [...(faults.get(path) ?? []), fault]);
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

function errors(field: string | null, message: string): string {
  return JSON.stringify({ errors: [{ field, message }] });
}
