import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/*
 * A local Google OAuth token endpoint and Postmaster Tools API v2 (https://developers.google.com/workspace/gmail/postmaster/reference/rest/v2) over real
 * HTTP:
 *   POST /token  (form: grant_type=refresh_token, client_id, client_secret, refresh_token)
 *   POST /v2/domains/{domain}/domainStats:query   (Bearer token; metricDefinitions, timeQuery, pageSize, pageToken)
 *   GET  /v2/domains/{domain}/complianceStatus    (Bearer token)
 * Stats are stored per (domain, standard metric, filter, day) and answered under each definition's name, only
 * for days that have data, paged via nextPageToken. Filters are checked against the documented grammar, so a
 * client sending a wrong one gets Google's 400 rather than silence. Scripted faults cover 401, 429, 500,
 * malformed bodies, a 400 that echoes the request, and a page token that loops.
 */

export interface PostmasterStat {
  readonly domain: string;
  readonly standardMetric: string;
  /** As a client writes it; compared with whitespace collapsed. Absent: the unfiltered metric. */
  readonly filter?: string;
  /** yyyy-mm-dd */
  readonly date: string;
  /** The StatisticValue as Google sends it: {floatValue}, {doubleValue}, {intValue: "1"}…; absent: the row has none. */
  readonly value?: Readonly<Record<string, unknown>>;
}

/**
 * unauthorized: 401 even with a valid token. rate-limit: 429 with Retry-After. server-error: 500.
 * malformed: a 200 whose JSON is cut off. echo: a 400 whose message repeats the Authorization header and the
 * body (a careless proxy). repeat-token (stats): the page answers with nextPageToken "loop-token" every time.
 */
export type PostmasterFaultKind =
  | "unauthorized"
  | "rate-limit"
  | "server-error"
  | "malformed"
  | "echo"
  | "repeat-token";

export type PostmasterEndpoint = "token" | "stats" | "compliance";

export interface PostmasterFault {
  readonly kind: PostmasterFaultKind;
  readonly on: PostmasterEndpoint;
  /** How many requests it answers (default 1); `Infinity` for a fault that persists. */
  readonly times?: number;
  /** rate-limit: the Retry-After header (default "1"). */
  readonly retryAfter?: string;
}

export interface PostmasterServerOptions {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly refreshToken: string;
  /** Domains the consenting user is OWNER or READER of; the others answer 403. */
  readonly domains: readonly string[];
  readonly stats?: readonly PostmasterStat[];
  /** domain → the `complianceData` object; a domain without one answers with the name only. */
  readonly compliance?: Readonly<Record<string, unknown>>;
  /** domain → the `subdomainComplianceData` object (Google sends it for a subdomain with data of its own). */
  readonly subdomainCompliance?: Readonly<Record<string, unknown>>;
  readonly faults?: readonly PostmasterFault[];
  /** Rows per page at most, below Google's 200 to force paging in tests. */
  readonly maxPageSize?: number;
}

export interface PostmasterRequestRecord {
  readonly n: number;
  readonly method: string;
  readonly path: string;
  readonly endpoint: PostmasterEndpoint | "other";
  /** The parsed JSON or form body; null without one. */
  readonly body: unknown;
  readonly authorization: string | undefined;
  readonly status: number;
  readonly fault: PostmasterFaultKind | null;
}

export interface PostmasterServer {
  /** http://127.0.0.1:<port>, the API base URL. */
  readonly baseUrl: string;
  /** The token endpoint URL. */
  readonly tokenUrl: string;
  readonly log: readonly PostmasterRequestRecord[];
  /** Every access token issued, in order. */
  readonly accessTokens: readonly string[];
  stop(): Promise<void>;
}

const GOOGLE_MAX_PAGE_SIZE = 200;
const DEFAULT_PAGE_SIZE = 10;
const LOOP_TOKEN = "loop-token";
const REJECT_REASONS = [
  "bad_attachment",
  "bad_or_missing_ptr_record",
  "ip_in_rbls",
  "low_domain_reputation",
  "low_ip_reputation",
  "spammy_content",
  "stamp_policy_error",
  "other",
];
const TEMP_FAIL_REASONS = ["anomalous_traffic_pattern", "other"];

interface Reply {
  readonly status: number;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
}

interface Definition {
  readonly name: string;
  readonly standardMetric: string;
  readonly filter: string;
}

export async function startPostmasterServer(options: PostmasterServerOptions): Promise<PostmasterServer> {
  const log: PostmasterRequestRecord[] = [];
  const accessTokens: string[] = [];
  const faults = (options.faults ?? []).map((f) => ({ ...f, left: f.times ?? 1 }));
  const pageTokens = new Map<string, number>();
  const maxPageSize = Math.min(GOOGLE_MAX_PAGE_SIZE, options.maxPageSize ?? GOOGLE_MAX_PAGE_SIZE);

  const takeFault = (endpoint: PostmasterEndpoint) => {
    const f = faults.find((x) => x.on === endpoint && x.left > 0);
    if (f) f.left--;
    return f;
  };

  const handle = (
    req: IncomingMessage,
    raw: string,
  ): [Reply, PostmasterEndpoint | "other", unknown, PostmasterFaultKind | null] => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const method = req.method ?? "GET";
    const auth = req.headers.authorization;
    const statsPath = /^\/v2\/domains\/([^/]+)\/domainStats:query$/.exec(url.pathname);
    const compliancePath = /^\/v2\/domains\/([^/]+)\/complianceStatus$/.exec(url.pathname);
    const endpoint: PostmasterEndpoint | "other" =
      url.pathname === "/token" ? "token" : statsPath ? "stats" : compliancePath ? "compliance" : "other";
    const body =
      endpoint === "token" ? Object.fromEntries(new URLSearchParams(raw)) : raw === "" ? null : tryJson(raw);
    if (endpoint === "other")
      return [googleError(404, "NOT_FOUND", `No route for ${url.pathname}`), endpoint, body, null];

    const fault = takeFault(endpoint);
    if (fault && fault.kind !== "repeat-token") {
      return [faultReply(fault, endpoint, auth, raw), endpoint, body, fault.kind];
    }

    if (endpoint === "token") return [token(method, req.headers["content-type"], raw), endpoint, body, null];

    const expected = endpoint === "stats" ? "POST" : "GET";
    if (method !== expected)
      return [googleError(405, "METHOD_NOT_ALLOWED", `${method} not allowed`), endpoint, body, null];
    const bearer = /^Bearer (.+)$/.exec(auth ?? "")?.[1];
    if (bearer === undefined || !accessTokens.includes(bearer)) {
      return [
        {
          ...googleError(
            401,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
          ),
          headers: { "www-authenticate": 'Bearer realm="https://accounts.google.com/"' },
        },
        endpoint,
        body,
        null,
      ];
    }
    const domain = decodeURIComponent(((statsPath ?? compliancePath) as RegExpExecArray)[1] as string);
    if (!options.domains.includes(domain)) {
      return [
        googleError(403, "PERMISSION_DENIED", "The caller does not have permission"),
        endpoint,
        body,
        null,
      ];
    }
    if (endpoint === "compliance") {
      const data = options.compliance?.[domain];
      const sub = options.subdomainCompliance?.[domain];
      return [
        json(200, {
          name: `domains/${domain}/complianceStatus`,
          ...(data === undefined ? {} : { complianceData: data }),
          ...(sub === undefined ? {} : { subdomainComplianceData: sub }),
        }),
        endpoint,
        body,
        null,
      ];
    }
    return [query(domain, body, fault?.kind === "repeat-token"), endpoint, body, fault?.kind ?? null];
  };

  const token = (method: string, contentType: string | undefined, raw: string): Reply => {
    if (method !== "POST") return oauthError(405, "invalid_request", "POST only");
    if (!String(contentType ?? "").startsWith("application/x-www-form-urlencoded")) {
      return oauthError(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded");
    }
    const form = new URLSearchParams(raw);
    if (form.get("grant_type") !== "refresh_token") {
      return oauthError(400, "unsupported_grant_type", `Invalid grant_type: ${form.get("grant_type") ?? ""}`);
    }
    if (form.get("client_id") !== options.clientId || form.get("client_secret") !== options.clientSecret) {
      return oauthError(401, "invalid_client", "The OAuth client was not found.");
    }
    if (form.get("refresh_token") !== options.refreshToken) {
      return oauthError(400, "invalid_grant", "Token has been expired or revoked.");
    }
    const access = `ya29.fake-${randomBytes(16).toString("hex")}`;
    accessTokens.push(access);
    return json(200, {
      access_token: access,
      expires_in: 3599,
      scope: "https://www.googleapis.com/auth/postmaster.traffic.readonly",
      token_type: "Bearer",
    });
  };

  const query = (domain: string, body: unknown, loop: boolean): Reply => {
    const q = readQuery(body);
    if (typeof q === "string") return googleError(400, "INVALID_ARGUMENT", q);
    let offset = 0;
    if (q.pageToken !== undefined && !loop) {
      const at = pageTokens.get(q.pageToken);
      if (at === undefined) return googleError(400, "INVALID_ARGUMENT", "Invalid page token.");
      offset = at;
    }
    const rows: { date: string; order: number; row: Record<string, unknown> }[] = [];
    for (const stat of options.stats ?? []) {
      if (stat.domain !== domain || !q.includes(stat.date)) continue;
      for (const [order, d] of q.definitions.entries()) {
        if (d.standardMetric !== stat.standardMetric || d.filter !== norm(stat.filter)) continue;
        const [year, month, day] = stat.date.split("-").map(Number);
        rows.push({
          date: stat.date,
          order,
          row: { metric: d.name, date: { year, month, day }, value: stat.value },
        });
      }
    }
    rows.sort((a, b) => a.date.localeCompare(b.date) || a.order - b.order);
    const size = Math.min(q.pageSize, maxPageSize);
    const page = rows.slice(offset, offset + size).map((r) => r.row);
    let next: string | undefined;
    if (loop) next = LOOP_TOKEN;
    else if (offset + size < rows.length) {
      next = randomBytes(12).toString("base64url");
      pageTokens.set(next, offset + size);
    }
    // Proto3 JSON: an empty list and an absent token are left out.
    return json(200, {
      ...(page.length > 0 ? { domainStats: page } : {}),
      ...(next === undefined ? {} : { nextPageToken: next }),
    });
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const [reply, endpoint, body, fault] = handle(req, raw);
      log.push({
        n: log.length + 1,
        method: req.method ?? "GET",
        path: req.url ?? "/",
        endpoint,
        body,
        authorization: req.headers.authorization,
        status: reply.status,
        fault,
      });
      send(res, reply);
    });
    req.on("error", () => res.destroy());
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    baseUrl,
    tokenUrl: `${baseUrl}/token`,
    log,
    accessTokens,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

interface Query {
  readonly definitions: readonly Definition[];
  readonly includes: (date: string) => boolean;
  readonly pageSize: number;
  readonly pageToken: string | undefined;
}

/** A QueryDomainStatsRequest, or the INVALID_ARGUMENT message Google would give. */
function readQuery(body: unknown): Query | string {
  if (!isRecord(body)) return "Invalid JSON payload received.";
  const defs = body.metricDefinitions;
  if (!Array.isArray(defs) || defs.length === 0) return "metric_definitions must not be empty.";
  const definitions: Definition[] = [];
  for (const d of defs) {
    const name = isRecord(d) ? d.name : undefined;
    const base = isRecord(d) && isRecord(d.baseMetric) ? d.baseMetric.standardMetric : undefined;
    const filter = isRecord(d) && typeof d.filter === "string" ? norm(d.filter) : "";
    if (typeof name !== "string" || name === "") return "metric_definitions.name is required.";
    if (definitions.some((x) => x.name === name)) return `Duplicate metric name: ${name}`;
    if (typeof base !== "string") return "metric_definitions.base_metric is required.";
    const problem = filterProblem(base, filter);
    if (problem) return problem;
    definitions.push({ name, standardMetric: base, filter });
  }
  const granularity = body.aggregationGranularity ?? "DAILY";
  if (granularity !== "DAILY") return "This fake serves DAILY aggregation only.";
  const tq = isRecord(body.timeQuery) ? body.timeQuery : undefined;
  const ranges = isRecord(tq?.dateRanges) ? tq.dateRanges.dateRanges : undefined;
  const list = isRecord(tq?.dateList) ? tq.dateList.dates : undefined;
  let includes: (date: string) => boolean;
  if (Array.isArray(ranges) && ranges.length > 0) {
    const bounds = ranges.map((r): [string | null, string | null] =>
      isRecord(r) ? [isoOf(r.start), isoOf(r.end)] : [null, null],
    );
    if (bounds.some(([s, e]) => s === null || e === null || s > e)) return "Invalid date range.";
    includes = (date) => bounds.some(([s, e]) => date >= (s as string) && date <= (e as string));
  } else if (Array.isArray(list) && list.length > 0) {
    const dates = list.map(isoOf);
    if (dates.includes(null)) return "Invalid date.";
    includes = (date) => dates.includes(date);
  } else {
    return "time_query is required.";
  }
  const pageSize = body.pageSize ?? DEFAULT_PAGE_SIZE;
  if (typeof pageSize !== "number" || !Number.isInteger(pageSize) || pageSize < 0)
    return "Invalid page_size.";
  const pageToken = body.pageToken;
  if (pageToken !== undefined && typeof pageToken !== "string") return "Invalid page_token.";
  return { definitions, includes, pageSize: pageSize || DEFAULT_PAGE_SIZE, pageToken };
}

/** The filter grammar of MetricDefinition (BaseMetric.StandardMetric's documentation); null when acceptable. */
function filterProblem(metric: string, filter: string): string | null {
  const bad = `Invalid filter for ${metric}: ${filter || "(empty)"}`;
  switch (metric) {
    case "SPAM_RATE":
      return filter === "" ? null : bad;
    case "AUTH_SUCCESS_RATE":
      return /^auth_type = "(spf|dkim|dmarc)"$/.test(filter) ? null : bad;
    case "TLS_ENCRYPTION_RATE":
    case "TLS_ENCRYPTION_MESSAGE_COUNT":
      return /^traffic_direction = "(inbound|outbound)"$/.test(filter) ? null : bad;
    case "DELIVERY_ERROR_RATE":
    case "DELIVERY_ERROR_COUNT": {
      if (filter === "") return null;
      const m = /^error_type = "(reject|temp_fail)"(?: AND error_reason = "([a-z_]+)")?$/.exec(filter);
      if (!m) return bad;
      if (m[2] === undefined) return null;
      return (m[1] === "reject" ? REJECT_REASONS : TEMP_FAIL_REASONS).includes(m[2]) ? null : bad;
    }
    case "FEEDBACK_LOOP_ID":
    case "FEEDBACK_LOOP_SPAM_RATE":
      return null;
    default:
      return `Invalid value for standard_metric: ${metric}`;
  }
}

function faultReply(
  fault: PostmasterFault,
  endpoint: PostmasterEndpoint,
  auth: string | undefined,
  raw: string,
): Reply {
  switch (fault.kind) {
    case "unauthorized":
      return endpoint === "token"
        ? oauthError(401, "invalid_client", "Unauthorized")
        : googleError(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.");
    case "rate-limit":
      return {
        ...(endpoint === "token"
          ? oauthError(429, "rate_limit_exceeded", "Rate limit exceeded")
          : googleError(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Queries'.")),
        headers: { "retry-after": fault.retryAfter ?? "1" },
      };
    case "server-error":
      return googleError(500, "INTERNAL", "Internal error encountered.");
    case "malformed":
      return { status: 200, body: '{"domainStats": [{"metric": "spam_rate", "date": {"year": 20' };
    case "echo":
      return endpoint === "token"
        ? oauthError(400, "invalid_request", `Could not read request: ${raw}`)
        : googleError(
            400,
            "INVALID_ARGUMENT",
            `Could not read request with ${auth ?? "no credentials"}: ${raw}`,
          );
    default:
      throw new Error(`fault ${fault.kind} is not a reply`);
  }
}

function googleError(code: number, status: string, message: string): Reply {
  return json(code, { error: { code, message, status } });
}

function oauthError(status: number, error: string, description: string): Reply {
  return json(status, { error, error_description: description });
}

function json(status: number, body: unknown): Reply {
  return { status, body: JSON.stringify(body) };
}

function send(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, {
    "content-type": "application/json; charset=UTF-8",
    "content-length": Buffer.byteLength(reply.body),
    ...reply.headers,
  });
  res.end(reply.body);
}

function norm(filter: string | undefined): string {
  return (filter ?? "").trim().replace(/\s+/g, " ");
}

function isoOf(d: unknown): string | null {
  if (!isRecord(d)) return null;
  const { year, month, day } = d;
  if (![year, month, day].every((x) => typeof x === "number" && Number.isInteger(x) && x > 0)) return null;
  return `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function tryJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
