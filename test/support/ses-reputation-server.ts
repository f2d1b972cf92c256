import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { CloudWatchClient, type CloudWatchClientConfig } from "@aws-sdk/client-cloudwatch";
import { SESv2Client, type SESv2ClientConfig } from "@aws-sdk/client-sesv2";
import { readBody } from "./http-helpers.ts";

/*
 * One local endpoint for the two AWS calls the SES reputation source makes, each in the wire protocol its
 * SDK v3 client speaks:
 * - sesv2 GetAccount, REST-JSON: GET /v2/email/account, answered with application/json; errors carry the
 *   `x-amzn-ErrorType` header and a {"message"} body.
 * - CloudWatch GetMetricData, JSON 1.0: POST / with `X-Amz-Target: GraniteServiceVersion20100801.GetMetricData`
 *   and `application/x-amz-json-1.0`; timestamps travel as epoch seconds; errors as {"__type", "message"}.
 * Unsigned requests are refused, as in AWS. Responses and faults are set per test.
 */

export type SesReputationOperation = "GetAccount" | "GetMetricData";

export interface RecordedAwsRequest {
  readonly operation: SesReputationOperation | "unknown";
  /** Whether the request carried a SigV4 Authorization header. */
  readonly signed: boolean;
  /** The parsed JSON body (GetMetricData), undefined for GET. */
  readonly body: unknown;
  readonly status: number;
}

/** One metric series as CloudWatch would hold it: one datapoint per period. */
export interface FakeMetricSeries {
  readonly metricName: string;
  /** Set: the series carries the `ses:configuration-set` dimension; unset: the account-wide series. */
  readonly configurationSet?: string;
  readonly points: ReadonlyArray<{ readonly timestamp: Date; readonly value: number }>;
}

/** An AWS error answer: HTTP status, error code (AccessDeniedException, Throttling, ...) and message. */
export interface AwsFault {
  readonly status: number;
  readonly type: string;
  readonly message: string;
}

export interface SesReputationServer {
  /** http://127.0.0.1:<port>, for both clients. */
  readonly endpoint: string;
  /** Every request, in arrival order. */
  readonly requests: readonly RecordedAwsRequest[];
  /** The GetAccount answer body (default: a healthy production account). */
  setAccount(body: Record<string, unknown>): void;
  setMetrics(series: readonly FakeMetricSeries[]): void;
  /** Answer the next `count` calls of `operation` with `fault`. */
  failNext(operation: SesReputationOperation, fault: AwsFault, count?: number): void;
  stop(): Promise<void>;
}

export const HEALTHY_ACCOUNT: Readonly<Record<string, unknown>> = {
  EnforcementStatus: "HEALTHY",
  SendingEnabled: true,
  ProductionAccessEnabled: true,
  DedicatedIpAutoWarmupEnabled: false,
  SendQuota: { Max24HourSend: 200000, MaxSendRate: 50, SentLast24Hours: 81234 },
};

const CW_TARGET_PREFIX = "GraniteServiceVersion20100801.";
const REQUEST_ID = "00000000-0000-4000-8000-00000000c0de";

export async function startSesReputationServer(
  initial: { account?: Record<string, unknown>; metrics?: readonly FakeMetricSeries[] } = {},
): Promise<SesReputationServer> {
  let account: Record<string, unknown> = initial.account ?? { ...HEALTHY_ACCOUNT };
  let metrics: readonly FakeMetricSeries[] = initial.metrics ?? [];
  const faults: Record<SesReputationOperation, AwsFault[]> = { GetAccount: [], GetMetricData: [] };
  const requests: RecordedAwsRequest[] = [];

  const server = createServer((req, res) => {
    readBody(req).then(
      (text) => {
        const signed = String(req.headers.authorization ?? "").startsWith("AWS4-HMAC-SHA256 ");
        const path = (req.url ?? "/").split("?")[0];
        const target = String(req.headers["x-amz-target"] ?? "");
        if (req.method === "GET" && path === "/v2/email/account") {
          const status = answerGetAccount(res, signed);
          requests.push({ operation: "GetAccount", signed, body: undefined, status });
        } else if (req.method === "POST" && path === "/" && target.startsWith(CW_TARGET_PREFIX)) {
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch {
            body = undefined;
          }
          const operation = target === `${CW_TARGET_PREFIX}GetMetricData` ? "GetMetricData" : "unknown";
          const status = answerCloudWatch(res, signed, target, body);
          requests.push({ operation, signed, body, status });
        } else {
          sendRestError(res, {
            status: 404,
            type: "NotFoundException",
            message: `No route ${req.method} ${path}`,
          });
          requests.push({ operation: "unknown", signed, body: undefined, status: 404 });
        }
      },
      () => res.destroy(),
    );
  });

  function answerGetAccount(res: ServerResponse, signed: boolean): number {
    const fault = faults.GetAccount.shift();
    if (fault) return sendRestError(res, fault);
    if (!signed) return sendRestError(res, unsigned());
    return sendJson(res, 200, "application/json", account);
  }

  function answerCloudWatch(res: ServerResponse, signed: boolean, target: string, body: unknown): number {
    const ct = "application/x-amz-json-1.0";
    if (target !== `${CW_TARGET_PREFIX}GetMetricData`) {
      return sendJsonError(res, ct, { status: 400, type: "UnknownOperationException", message: target });
    }
    const fault = faults.GetMetricData.shift();
    if (fault) return sendJsonError(res, ct, fault);
    if (!signed) return sendJsonError(res, ct, unsigned());
    const input = readMetricDataInput(body);
    if (typeof input === "string") {
      return sendJsonError(res, ct, { status: 400, type: "InvalidParameterValue", message: input });
    }
    const results = input.queries.map((q) => {
      const series = metrics.find(
        (s) =>
          q.namespace === "AWS/SES" &&
          s.metricName === q.metricName &&
          s.configurationSet === q.configurationSet,
      );
      const points = (series?.points ?? [])
        .filter((p) => p.timestamp.getTime() >= input.start && p.timestamp.getTime() < input.end)
        .sort((a, b) =>
          input.ascending
            ? a.timestamp.getTime() - b.timestamp.getTime()
            : b.timestamp.getTime() - a.timestamp.getTime(),
        );
      return {
        Id: q.id,
        Label: q.metricName,
        Timestamps: points.map((p) => p.timestamp.getTime() / 1000),
        Values: points.map((p) => p.value),
        StatusCode: "Complete",
      };
    });
    return sendJson(res, 200, ct, { MetricDataResults: results, Messages: [] });
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    setAccount(body) {
      account = body;
    },
    setMetrics(series) {
      metrics = series;
    },
    failNext(operation, fault, count = 1) {
      for (let i = 0; i < count; i++) faults[operation].push(fault);
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** An SESv2Client for the local server: endpoint override, dummy static credentials, SDK retries off. */
export function sesv2TestClient(
  server: Pick<SesReputationServer, "endpoint">,
  config: SESv2ClientConfig = {},
): SESv2Client {
  return new SESv2Client({
    endpoint: server.endpoint,
    region: "eu-west-1",
    credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test-secret" },
    maxAttempts: 1,
    ...config,
  });
}

/** A CloudWatchClient for the local server: endpoint override, dummy static credentials, SDK retries off. */
export function cloudWatchTestClient(
  server: Pick<SesReputationServer, "endpoint">,
  config: CloudWatchClientConfig = {},
): CloudWatchClient {
  return new CloudWatchClient({
    endpoint: server.endpoint,
    region: "eu-west-1",
    credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test-secret" },
    maxAttempts: 1,
    ...config,
  });
}

interface MetricQuery {
  readonly id: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly configurationSet: string | undefined;
}

/** The parts of a GetMetricData request the fake answers from; a string says what is wrong with it. */
function readMetricDataInput(
  body: unknown,
): { queries: MetricQuery[]; start: number; end: number; ascending: boolean } | string {
  if (typeof body !== "object" || body === null) return "body is not a JSON object";
  const start = epochMs(Reflect.get(body, "StartTime"));
  const end = epochMs(Reflect.get(body, "EndTime"));
  if (start === null || end === null) return "StartTime and EndTime are required";
  if (start >= end) return "The parameter StartTime must be less than the parameter EndTime.";
  const raw: unknown = Reflect.get(body, "MetricDataQueries");
  if (!Array.isArray(raw) || raw.length === 0) return "MetricDataQueries is required";
  const queries: MetricQuery[] = [];
  for (const q of raw as unknown[]) {
    if (typeof q !== "object" || q === null) return "a query is not an object";
    const id: unknown = Reflect.get(q, "Id");
    if (typeof id !== "string" || !/^[a-z][a-zA-Z0-9_]*$/.test(id)) return `invalid Id ${String(id)}`;
    const stat: unknown = Reflect.get(q, "MetricStat");
    const metric: unknown =
      typeof stat === "object" && stat !== null ? Reflect.get(stat, "Metric") : undefined;
    if (typeof metric !== "object" || metric === null) return `query ${id} has no MetricStat.Metric`;
    const dims: unknown = Reflect.get(metric, "Dimensions") ?? [];
    if (!Array.isArray(dims)) return `query ${id} has bad Dimensions`;
    let configurationSet: string | undefined;
    for (const d of dims as unknown[]) {
      const name: unknown = typeof d === "object" && d !== null ? Reflect.get(d, "Name") : undefined;
      const value: unknown = typeof d === "object" && d !== null ? Reflect.get(d, "Value") : undefined;
      // Any other dimension names a series SES does not publish: it matches nothing.
      configurationSet =
        name === "ses:configuration-set" && typeof value === "string" ? value : `\u0000${String(name)}`;
    }
    queries.push({
      id,
      namespace: String(Reflect.get(metric, "Namespace")),
      metricName: String(Reflect.get(metric, "MetricName")),
      configurationSet,
    });
  }
  return { queries, start, end, ascending: Reflect.get(body, "ScanBy") === "TimestampAscending" };
}

function epochMs(v: unknown): number | null {
  if (typeof v === "number") return v * 1000;
  if (typeof v === "string") {
    const t = Date.parse(v);
    return Number.isNaN(t) ? null : t;
  }
  return null;
}

function unsigned(): AwsFault {
  return { status: 403, type: "MissingAuthenticationTokenException", message: "Request is not signed" };
}

function sendJson(res: ServerResponse, status: number, contentType: string, body: unknown): number {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": contentType,
    "content-length": Buffer.byteLength(text),
    "x-amzn-requestid": REQUEST_ID,
  });
  res.end(text);
  return status;
}

function sendRestError(res: ServerResponse, fault: AwsFault): number {
  const text = JSON.stringify({ message: fault.message });
  res.writeHead(fault.status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "x-amzn-errortype": fault.type,
    "x-amzn-requestid": REQUEST_ID,
  });
  res.end(text);
  return fault.status;
}

function sendJsonError(res: ServerResponse, contentType: string, fault: AwsFault): number {
  return sendJson(res, fault.status, contentType, { __type: fault.type, message: fault.message });
}
