import { afterEach, describe, expect, it } from "vitest";
import {
  type ReputationSignal,
  ReputationSignalSchema,
} from "../../../../../shared/domain/reputation/reputation-signal.ts";
import { ProviderFetchError } from "../../../../../shared/http/provider-http-client.ts";
import {
  PostmasterCredentialsSchema,
  PostmasterSource,
  type PostmasterSourceOptions,
} from "../../../../../shared/sources/reputation/postmaster/postmaster-source.ts";
import { PartialCollectError } from "../../../../../shared/sources/reputation/reputation-source.ts";
import {
  type PostmasterFault,
  type PostmasterServer,
  type PostmasterServerOptions,
  type PostmasterStat,
  startPostmasterServer,
} from "../../../../support/postmaster-server.ts";

const CREDENTIALS = {
  client_id: "123456789012-abcdefghijklmnop.apps.googleusercontent.com",
  client_secret: "GOCSPX-fakeClientSecret0123456789",
  // Real refresh tokens start "1//": the slashes are form-encoded on the wire.
  refresh_token: "1//0gFakeRefreshToken-for_tests+only",
};
const NOW = new Date("2026-09-19T06:00:00Z");
const DAYS = [
  "2026-09-12",
  "2026-09-13",
  "2026-09-14",
  "2026-09-15",
  "2026-09-16",
  "2026-09-17",
  "2026-09-18",
];
// Below Google's volume floor: no row for any metric.
const QUIET_DAY = "2026-09-15";
const DOMAIN = "example.com";
const SMALL_DOMAIN = "news.example.org";
const REASONS = [
  "low_ip_reputation",
  "low_domain_reputation",
  "ip_in_rbls",
  "bad_or_missing_ptr_record",
  "spammy_content",
];
const METRICS = [
  "spam_rate",
  "auth_success_rate:spf",
  "auth_success_rate:dkim",
  "auth_success_rate:dmarc",
  "delivery_error_rate",
  ...REASONS.map((r) => `delivery_error_rate:${r}`),
];

type Key = string;
const SERIES: Record<Key, { standardMetric: string; filter?: string }> = {
  spam_rate: { standardMetric: "SPAM_RATE" },
  spf: { standardMetric: "AUTH_SUCCESS_RATE", filter: 'auth_type = "spf"' },
  dkim: { standardMetric: "AUTH_SUCCESS_RATE", filter: 'auth_type = "dkim"' },
  dmarc: { standardMetric: "AUTH_SUCCESS_RATE", filter: 'auth_type = "dmarc"' },
  errors: { standardMetric: "DELIVERY_ERROR_RATE" },
  ...Object.fromEntries(
    REASONS.map((r) => [
      r,
      { standardMetric: "DELIVERY_ERROR_RATE", filter: `error_type = "reject" AND error_reason = "${r}"` },
    ]),
  ),
  temp_fail: { standardMetric: "DELIVERY_ERROR_RATE", filter: 'error_type = "temp_fail"' },
};

function stat(domain: string, key: Key, date: string, value: Record<string, unknown>): PostmasterStat {
  return { domain, ...(SERIES[key] as { standardMetric: string }), date, value };
}

/** A healthy week for DOMAIN, a bad 17th (spam and a domain-reputation rejection wave), and a quiet 15th. */
function exampleWeek(): PostmasterStat[] {
  const out: PostmasterStat[] = [];
  for (const date of ["2026-09-11", ...DAYS, "2026-09-19"]) {
    if (date === QUIET_DAY) continue;
    const bad = date === "2026-09-17";
    out.push(
      stat(DOMAIN, "spam_rate", date, { floatValue: bad ? 0.0042 : date === "2026-09-16" ? 0.0011 : 0.0004 }),
      stat(DOMAIN, "spf", date, date === "2026-09-18" ? { intValue: 1 } : { intValue: "1" }),
      stat(DOMAIN, "dkim", date, { doubleValue: date === "2026-09-18" ? 0.85 : 0.999 }),
      stat(DOMAIN, "dmarc", date, { floatValue: bad ? 0.95 : 0.997 }),
      stat(DOMAIN, "errors", date, { floatValue: bad ? 0.062 : 0.004 }),
      stat(DOMAIN, "low_ip_reputation", date, { floatValue: 0 }),
      stat(DOMAIN, "low_domain_reputation", date, { floatValue: bad ? 0.031 : 0 }),
      stat(DOMAIN, "ip_in_rbls", date, { floatValue: bad ? 0.0025 : 0.0001 }),
      stat(DOMAIN, "bad_or_missing_ptr_record", date, { floatValue: 0 }),
      stat(DOMAIN, "spammy_content", date, { floatValue: 0.0008 }),
      // Queried by nobody: must not turn up as a signal.
      stat(DOMAIN, "temp_fail", date, { floatValue: 0.02 }),
    );
  }
  return out;
}

const STATS: PostmasterStat[] = [
  ...exampleWeek(),
  stat(SMALL_DOMAIN, "spam_rate", "2026-09-17", { floatValue: 0.0002 }),
  stat(SMALL_DOMAIN, "spam_rate", "2026-09-18", { stringValue: "n/a" }),
];

const COMPLIANCE = {
  [DOMAIN]: {
    domainId: DOMAIN,
    rowData: [
      { requirement: "SPF", status: { status: "COMPLIANT" } },
      { requirement: "DKIM", status: { status: "COMPLIANT" } },
      { requirement: "DMARC_ALIGNMENT", status: { status: "NEEDS_WORK" } },
      { requirement: "MESSAGE_FORMATTING", status: { status: "NEEDS_WORK" } },
      { requirement: "USER_REPORTED_SPAM_RATE", status: {} },
      { requirement: "HONOR_UNSUBSCRIBE", status: { status: "COMPLIANT" } },
    ],
    oneClickUnsubscribeVerdict: { status: { status: "NEEDS_WORK" }, reason: "NO_UNSUB_SPAM_REPORTS" },
  },
};

let server: PostmasterServer | null = null;
let sleeps: number[] = [];

afterEach(async () => {
  await server?.stop();
  server = null;
});

async function start(overrides: Partial<PostmasterServerOptions> = {}, faults: PostmasterFault[] = []) {
  server = await startPostmasterServer({
    clientId: CREDENTIALS.client_id,
    clientSecret: CREDENTIALS.client_secret,
    refreshToken: CREDENTIALS.refresh_token,
    domains: [DOMAIN, SMALL_DOMAIN],
    stats: STATS,
    compliance: COMPLIANCE,
    // 60 rows for DOMAIN over 8 pages.
    maxPageSize: 8,
    faults,
    ...overrides,
  });
  return server;
}

function source(overrides: Partial<PostmasterSourceOptions> = {}): PostmasterSource {
  sleeps = [];
  return new PostmasterSource({
    credentials: CREDENTIALS,
    domains: [DOMAIN, SMALL_DOMAIN],
    baseUrl: server?.baseUrl ?? "http://127.0.0.1:9",
    tokenUrl: server?.tokenUrl ?? "http://127.0.0.1:9/token",
    timeoutMs: 2_000,
    // Records the wait and returns at once: the tests check what was asked for, not the clock.
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...overrides,
  });
}

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    if (e instanceof Error) return e;
    throw e;
  }
  throw new Error("expected collect to throw");
}

/** No secret, raw or form-encoded, nor any access token the server issued, anywhere in the error. */
function expectNoSecret(err: Error, s: PostmasterServer): void {
  const secrets = [CREDENTIALS.client_secret, CREDENTIALS.refresh_token, ...s.accessTokens];
  const shown = [err.message, JSON.stringify(err), String(err.stack)].join("\n");
  for (const secret of secrets) {
    for (const form of [
      secret,
      encodeURIComponent(secret),
      new URLSearchParams({ s: secret }).toString().slice(2),
    ]) {
      expect(shown).not.toContain(form);
    }
  }
}

const find = (signals: readonly ReputationSignal[], subject: string, metric: string, day: string | null) =>
  signals.find((s) => s.subject === subject && s.metric === metric && s.day === day);

describe("PostmasterSource.collect", () => {
  it("reads every metric of the last 7 days across pages, judges it, and marks missing days no_data", async () => {
    const s = await start();
    const signals = await source().collect(NOW);

    for (const sig of signals) expect(ReputationSignalSchema.safeParse(sig).success).toBe(true);
    const daily = signals.filter((x) => x.day !== null);
    // One signal per (domain, metric, day), no more: the temp_fail series and days outside the week are ignored.
    expect(daily).toHaveLength(2 * METRICS.length * DAYS.length);
    for (const subject of [DOMAIN, SMALL_DOMAIN]) {
      for (const metric of METRICS) {
        expect(daily.filter((x) => x.subject === subject && x.metric === metric).map((x) => x.day)).toEqual(
          DAYS,
        );
      }
    }
    expect(signals.every((x) => x.source === "postmaster" && x.subjectKind === "domain")).toBe(true);
    expect(signals.every((x) => x.observedAt === NOW.toISOString())).toBe(true);

    // The quiet day is no_data for every metric: never a zero, never good.
    const quiet = daily.filter((x) => x.subject === DOMAIN && x.day === QUIET_DAY);
    expect(quiet).toHaveLength(METRICS.length);
    for (const q of quiet) {
      expect(q).toMatchObject({ status: "no_data", value: null });
      expect(q.detail).toMatch(/no .* for this day, as it does below its volume floor/);
    }

    expect(find(signals, DOMAIN, "spam_rate", "2026-09-17")).toEqual({
      source: "postmaster",
      subject: DOMAIN,
      subjectKind: "domain",
      metric: "spam_rate",
      status: "bad",
      value: 0.0042,
      day: "2026-09-17",
      detail: "Gmail user-reported spam rate 0.42% is at or above Google's 0.3% limit.",
      observedAt: "2026-09-19T06:00:00.000Z",
    });
    expect(find(signals, DOMAIN, "delivery_error_rate:low_domain_reputation", "2026-09-17")).toMatchObject({
      status: "bad",
      value: 0.031,
      detail: "Gmail rejection rate for low domain reputation 3.1% is above the 1% bad level.",
    });
    // intValue as a string and as a number both read.
    expect(find(signals, DOMAIN, "auth_success_rate:spf", "2026-09-16")).toMatchObject({
      status: "good",
      value: 1,
    });
    expect(find(signals, DOMAIN, "auth_success_rate:spf", "2026-09-18")).toMatchObject({
      status: "good",
      value: 1,
    });
    expect(find(signals, DOMAIN, "delivery_error_rate:low_ip_reputation", "2026-09-12")).toMatchObject({
      status: "good",
      value: 0,
    });

    const flagged = daily
      .filter((x) => x.subject === DOMAIN && x.status !== "good" && x.status !== "no_data")
      .map((x) => `${x.day} ${x.metric} ${x.status} ${x.value}`)
      .sort();
    expect(flagged).toEqual([
      "2026-09-16 spam_rate warning 0.0011",
      "2026-09-17 auth_success_rate:dmarc warning 0.95",
      "2026-09-17 delivery_error_rate warning 0.062",
      "2026-09-17 delivery_error_rate:ip_in_rbls warning 0.0025",
      "2026-09-17 delivery_error_rate:low_domain_reputation bad 0.031",
      "2026-09-17 spam_rate bad 0.0042",
      "2026-09-18 auth_success_rate:dkim bad 0.85",
    ]);

    // The small domain: one value, one unreadable answer, the rest no_data.
    const small = daily.filter((x) => x.subject === SMALL_DOMAIN);
    expect(small.filter((x) => x.status === "no_data")).toHaveLength(METRICS.length * DAYS.length - 2);
    expect(find(signals, SMALL_DOMAIN, "spam_rate", "2026-09-17")).toMatchObject({
      status: "good",
      value: 0.0002,
    });
    expect(find(signals, SMALL_DOMAIN, "spam_rate", "2026-09-18")).toMatchObject({
      status: "unknown",
      value: "n/a",
    });

    const compliance = signals
      .filter((x) => x.day === null)
      .map((x) => [x.subject, x.metric, x.status, x.value] as const);
    expect(compliance).toEqual([
      [DOMAIN, "compliance:SPF", "good", "COMPLIANT"],
      [DOMAIN, "compliance:DKIM", "good", "COMPLIANT"],
      [DOMAIN, "compliance:DMARC_ALIGNMENT", "bad", "NEEDS_WORK"],
      [DOMAIN, "compliance:MESSAGE_FORMATTING", "warning", "NEEDS_WORK"],
      [DOMAIN, "compliance:USER_REPORTED_SPAM_RATE", "unknown", "STATE_UNSPECIFIED"],
      [DOMAIN, "compliance:HONOR_UNSUBSCRIBE", "good", "COMPLIANT"],
      [DOMAIN, "compliance:ONE_CLICK_UNSUBSCRIBE", "warning", "NEEDS_WORK"],
    ]);
    expect(find(signals, DOMAIN, "compliance:ONE_CLICK_UNSUBSCRIBE", null)?.detail).toContain(
      "NO_UNSUB_SPAM_REPORTS",
    );

    // One token exchange for the whole run; every API call carries its token.
    const token = s.log.filter((r) => r.endpoint === "token");
    expect(token).toHaveLength(1);
    expect(token[0]?.body).toEqual({ grant_type: "refresh_token", ...CREDENTIALS });
    const api = s.log.filter((r) => r.endpoint !== "token");
    expect(api.every((r) => r.authorization === `Bearer ${s.accessTokens[0]}` && r.status === 200)).toBe(
      true,
    );

    const stats = s.log.filter((r) => r.endpoint === "stats" && r.path.includes(DOMAIN));
    expect(stats.map((r) => r.path)).toEqual(Array(8).fill(`/v2/domains/${DOMAIN}/domainStats:query`));
    const [first, ...rest] = stats.map((r) => r.body as Record<string, unknown>);
    expect(first).toEqual({
      metricDefinitions: [
        { name: "spam_rate", baseMetric: { standardMetric: "SPAM_RATE" } },
        {
          name: "auth_spf",
          baseMetric: { standardMetric: "AUTH_SUCCESS_RATE" },
          filter: 'auth_type = "spf"',
        },
        {
          name: "auth_dkim",
          baseMetric: { standardMetric: "AUTH_SUCCESS_RATE" },
          filter: 'auth_type = "dkim"',
        },
        {
          name: "auth_dmarc",
          baseMetric: { standardMetric: "AUTH_SUCCESS_RATE" },
          filter: 'auth_type = "dmarc"',
        },
        { name: "delivery_errors", baseMetric: { standardMetric: "DELIVERY_ERROR_RATE" } },
        ...REASONS.map((r) => ({
          name: `reject_${r}`,
          baseMetric: { standardMetric: "DELIVERY_ERROR_RATE" },
          filter: `error_type = "reject" AND error_reason = "${r}"`,
        })),
      ],
      timeQuery: {
        dateRanges: {
          dateRanges: [{ start: { year: 2026, month: 9, day: 12 }, end: { year: 2026, month: 9, day: 18 } }],
        },
      },
      aggregationGranularity: "DAILY",
      pageSize: 200,
    });
    const tokens = rest.map((b) => b.pageToken);
    expect(tokens.every((t) => typeof t === "string" && t !== "")).toBe(true);
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(s.log.filter((r) => r.endpoint === "compliance").map((r) => r.path)).toEqual([
      `/v2/domains/${DOMAIN}/complianceStatus`,
      `/v2/domains/${SMALL_DOMAIN}/complianceStatus`,
    ]);
    expect(sleeps).toEqual([]);
  });

  it("exchanges the refresh token again on the next run", async () => {
    const s = await start();
    const src = source({ domains: [SMALL_DOMAIN] });
    await src.collect(NOW);
    await src.collect(NOW);
    expect(s.log.filter((r) => r.endpoint === "token")).toHaveLength(2);
    expect(s.accessTokens).toHaveLength(2);
  });

  it("reads the lookback window ending yesterday (UTC)", async () => {
    const s = await start();
    const signals = await source({ domains: [DOMAIN], lookbackDays: 2 }).collect(
      new Date("2026-09-18T23:59:59.999Z"),
    );
    expect([...new Set(signals.map((x) => x.day))]).toEqual(["2026-09-16", "2026-09-17", null]);
    const body = s.log.find((r) => r.endpoint === "stats")?.body as { timeQuery: unknown };
    expect(body.timeQuery).toEqual({
      dateRanges: {
        dateRanges: [{ start: { year: 2026, month: 9, day: 16 }, end: { year: 2026, month: 9, day: 17 } }],
      },
    });
  });

  it("returns nothing, and asks nothing, without domains", async () => {
    const s = await start();
    expect(await source({ domains: [] }).collect(NOW)).toEqual([]);
    expect(s.log).toEqual([]);
  });

  it("refuses a non-positive lookback", () => {
    expect(() => source({ lookbackDays: 0 })).toThrow(RangeError);
    expect(() => source({ lookbackDays: 1.5 })).toThrow(RangeError);
  });

  it("honours Retry-After on a 429, then reads the page", async () => {
    const s = await start({}, [{ kind: "rate-limit", on: "stats", retryAfter: "2" }]);
    const signals = await source({ domains: [DOMAIN] }).collect(NOW);
    expect(sleeps).toEqual([2000]);
    expect(s.log.filter((r) => r.endpoint === "stats").map((r) => r.status)).toEqual([
      429,
      ...Array(8).fill(200),
    ]);
    expect(find(signals, DOMAIN, "spam_rate", "2026-09-17")?.status).toBe("bad");
  });

  it("retries a 500 with backoff, on the API and on the token endpoint", async () => {
    const s = await start({}, [
      { kind: "server-error", on: "token" },
      { kind: "server-error", on: "compliance" },
    ]);
    const signals = await source({ domains: [DOMAIN] }).collect(NOW);
    // random() = 0.5 of the first 500 ms step, once per request.
    expect(sleeps).toEqual([250, 250]);
    expect(s.log.filter((r) => r.endpoint === "token").map((r) => r.status)).toEqual([500, 200]);
    expect(s.log.filter((r) => r.endpoint === "compliance").map((r) => r.status)).toEqual([500, 200]);
    expect(signals.filter((x) => x.day === null)).toHaveLength(7);
  });

  it("retries a malformed page once and reads on", async () => {
    const s = await start({}, [{ kind: "malformed", on: "stats" }]);
    const signals = await source({ domains: [DOMAIN] }).collect(NOW);
    expect(sleeps).toEqual([250]);
    expect(s.log.filter((r) => r.endpoint === "stats").map((r) => r.fault)).toEqual([
      "malformed",
      ...Array(8).fill(null),
    ]);
    expect(signals.filter((x) => x.day !== null)).toHaveLength(METRICS.length * DAYS.length);
  });
});

describe("PostmasterSource compliance and empty values", () => {
  const SUB = "mail.example.com";
  const allCompliant = (domainId: string) => ({
    domainId,
    rowData: ["SPF", "DKIM", "DMARC_POLICY", "ONE_CLICK_UNSUBSCRIBE"].map((requirement) => ({
      requirement,
      status: { status: "COMPLIANT" },
    })),
    oneClickUnsubscribeVerdict: { status: { status: "COMPLIANT" } },
  });

  it("judges a subdomain on its own data (subdomainComplianceData), and says whose data it is", async () => {
    // getComplianceStatus for mail.example.com: the registrable domain is compliant, the subdomain itself
    // lacks one-click unsubscribe.
    await start({
      domains: [SUB],
      stats: [],
      compliance: { [SUB]: allCompliant("example.com") },
      subdomainCompliance: {
        [SUB]: {
          ...allCompliant(SUB),
          rowData: [
            { requirement: "SPF", status: { status: "COMPLIANT" } },
            { requirement: "ONE_CLICK_UNSUBSCRIBE", status: { status: "NEEDS_WORK" } },
          ],
          oneClickUnsubscribeVerdict: { status: { status: "NEEDS_WORK" }, reason: "NO_UNSUB_GENERAL" },
        },
      },
    });
    const signals = await source({ domains: [SUB], lookbackDays: 1 }).collect(NOW);
    const unsub = find(signals, SUB, "compliance:ONE_CLICK_UNSUBSCRIBE", null);
    expect(unsub).toMatchObject({ status: "warning", value: "NEEDS_WORK" });
    expect(unsub?.detail).toContain("for mail.example.com itself (Google's subdomain data)");
    expect(unsub?.detail).toContain("NO_UNSUB_GENERAL");
    // Only the subdomain's own rows: DKIM and DMARC_POLICY were the registrable domain's.
    expect(signals.filter((x) => x.day === null).map((x) => x.metric)).toEqual([
      "compliance:SPF",
      "compliance:ONE_CLICK_UNSUBSCRIBE",
    ]);
  });

  it("falls back to the registrable domain's data for a subdomain without its own, and says so", async () => {
    await start({ domains: [SUB], stats: [], compliance: { [SUB]: allCompliant("example.com") } });
    const signals = await source({ domains: [SUB], lookbackDays: 1 }).collect(NOW);
    const spf = find(signals, SUB, "compliance:SPF", null);
    expect(spf?.status).toBe("good");
    expect(spf?.detail).toContain(
      "for example.com, the registrable domain of mail.example.com (Google has no data for mail.example.com itself)",
    );
    // A registrable domain is judged on complianceData, named as itself.
    await server?.stop();
    await start({ domains: [DOMAIN], stats: [], compliance: { [DOMAIN]: allCompliant(DOMAIN) } });
    const own = await source({ domains: [DOMAIN], lookbackDays: 1 }).collect(NOW);
    expect(find(own, DOMAIN, "compliance:SPF", null)?.detail).toBe(
      "Gmail sender requirement SPF for example.com is COMPLIANT.",
    );
  });

  it("reads a row whose value carries no number ({}, absent, NaN) as no_data, a non-number as unknown", async () => {
    await start({
      domains: [DOMAIN],
      compliance: {},
      stats: [
        stat(DOMAIN, "spam_rate", "2026-09-15", {}),
        { domain: DOMAIN, standardMetric: "SPAM_RATE", date: "2026-09-16" },
        stat(DOMAIN, "spam_rate", "2026-09-17", { floatValue: "NaN" }),
        stat(DOMAIN, "spam_rate", "2026-09-18", { stringValue: "n/a" }),
      ],
    });
    const signals = await source({ domains: [DOMAIN], lookbackDays: 4 }).collect(NOW);
    const spam = signals.filter((x) => x.metric === "spam_rate").map((x) => [x.day, x.status, x.value]);
    expect(spam).toEqual([
      ["2026-09-15", "no_data", null],
      ["2026-09-16", "no_data", null],
      ["2026-09-17", "no_data", null],
      ["2026-09-18", "unknown", "n/a"],
    ]);
    expect(find(signals, DOMAIN, "spam_rate", "2026-09-15")?.detail).toContain("with no number in it ({})");
  });
});

describe("PostmasterSource bad rows", () => {
  it("leaves out a domainStats row it cannot read, hands it to the run, and reads the others", async () => {
    await start({
      domains: [DOMAIN],
      compliance: {},
      stats: [
        stat(DOMAIN, "spam_rate", "2026-09-17", { floatValue: 0.0004 }),
        // A value of the wrong type: that row alone is refused.
        stat(DOMAIN, "spam_rate", "2026-09-18", { floatValue: { nested: true } }),
      ],
    });
    const bad: { where: string; reason: string }[] = [];
    const signals = await source({ domains: [DOMAIN], lookbackDays: 2 }).collect(NOW, {
      badRow: (r) => bad.push(r),
    });
    expect(bad).toEqual([
      {
        where: `domains/${DOMAIN} domainStats page 1 row 2`,
        reason: expect.stringMatching(/^value\.floatValue: /),
      },
    ]);
    expect(find(signals, DOMAIN, "spam_rate", "2026-09-17")).toMatchObject({ status: "good", value: 0.0004 });
    // The refused row still names its metric and day: that day is unknown, not a day without data.
    expect(find(signals, DOMAIN, "spam_rate", "2026-09-18")).toMatchObject({
      status: "unknown",
      value: null,
    });
  });
});

describe("PostmasterSource faults", () => {
  it("explains a refused refresh token, and asks nothing else", async () => {
    const s = await start({ refreshToken: "1//0gTheOnlyValidToken" });
    const err = await failure(source().collect(NOW));
    expect(err).toBeInstanceOf(ProviderFetchError);
    expect(err).toMatchObject({ kind: "auth", status: 400 });
    expect(err.message).toMatch(
      /refused the Postmaster Tools refresh token \(invalid_grant: Token has been expired/,
    );
    expect(err.message).toMatch(/publish the OAuth consent screen/);
    expect(err.message).toMatch(/Testing status expire after 7 days/);
    expect(s.log.map((r) => r.endpoint)).toEqual(["token"]);
    expect(sleeps).toEqual([]);
    expectNoSecret(err, s);
  });

  it("names the client, not the token, when the client secret is wrong", async () => {
    const s = await start({ clientSecret: "GOCSPX-anotherSecret" });
    const err = await failure(source().collect(NOW));
    expect(err).toMatchObject({ kind: "auth", status: 401 });
    expect(err.message).toMatch(/refused the OAuth client \(invalid_client/);
    expect(err.message).toMatch(/client_id and client_secret/);
    expectNoSecret(err, s);
  });

  it("stops at once on a 401 from the stats endpoint", async () => {
    const s = await start({}, [{ kind: "unauthorized", on: "stats" }]);
    const err = await failure(source().collect(NOW));
    expect(err).toMatchObject({ kind: "auth", status: 401, attempts: 1 });
    expect(err.message).toMatch(/Google Postmaster Tools refused the credential \(HTTP 401\)/);
    expect(err.message).toMatch(/postmaster\.traffic\.readonly/);
    expect(s.log.filter((r) => r.endpoint === "stats")).toHaveLength(1);
    expect(sleeps).toEqual([]);
    expectNoSecret(err, s);
  });

  it("fails with an auth error on a domain the user cannot read, keeping the domains read before it", async () => {
    const s = await start({}, []);
    const err = await failure(source({ domains: [DOMAIN, "other.example.net"] }).collect(NOW));
    expect(err).toBeInstanceOf(PartialCollectError);
    const fault = (err as PartialCollectError).fault;
    expect(fault).toMatchObject({ kind: "auth", status: 403, attempts: 1 });
    expect((fault as ProviderFetchError).url).toBe(
      `${s.baseUrl}/v2/domains/other.example.net/domainStats:query`,
    );
    expect(err.message).toMatch(/owner or reader of the domain/);
    const kept = (err as PartialCollectError).signals;
    expect(new Set(kept.map((x) => x.subject))).toEqual(new Set([DOMAIN]));
    expect(kept.filter((x) => x.day !== null)).toHaveLength(METRICS.length * DAYS.length);
    expectNoSecret(err, s);
  });

  it("gives up on a body that stays malformed after maxAttempts", async () => {
    const s = await start({}, [{ kind: "malformed", on: "stats", times: Number.POSITIVE_INFINITY }]);
    const err = await failure(source({ maxAttempts: 3 }).collect(NOW));
    expect(err).toMatchObject({ kind: "exhausted", status: 200, attempts: 3 });
    expect(err.message).toMatch(/after 3 attempts/);
    expect(err.message).toMatch(/malformed response \(not JSON\)/);
    expect(sleeps).toEqual([250, 500]);
    expect(s.log.filter((r) => r.endpoint === "stats")).toHaveLength(3);
    expectNoSecret(err, s);
  });

  it("gives up on a persistent 429 after maxAttempts", async () => {
    const s = await start({}, [{ kind: "rate-limit", on: "compliance", times: Number.POSITIVE_INFINITY }]);
    const err = await failure(source({ domains: [DOMAIN], maxAttempts: 2 }).collect(NOW));
    // The daily values were read before the compliance request gave up: kept with the fault.
    expect((err as PartialCollectError).fault).toMatchObject({ kind: "exhausted", status: 429, attempts: 2 });
    expect((err as PartialCollectError).signals).toHaveLength(METRICS.length * DAYS.length);
    expect(sleeps).toEqual([1000]);
    expectNoSecret(err, s);
  });

  it("stops when a page token comes back twice", async () => {
    const s = await start({}, [{ kind: "repeat-token", on: "stats", times: Number.POSITIVE_INFINITY }]);
    const err = await failure(source({ domains: [DOMAIN] }).collect(NOW));
    expect(err.message).toMatch(/paging loops for example\.com: a page token came back twice/);
    expect(s.log.filter((r) => r.endpoint === "stats")).toHaveLength(2);
  });

  it("keeps secrets out of an error whose body echoes the request", async () => {
    for (const on of ["token", "stats"] as const) {
      const s = await start({}, [{ kind: "echo", on }]);
      const err = await failure(source().collect(NOW));
      expect(err).toMatchObject({ kind: on === "token" ? "auth" : "http", status: 400 });
      // The echo reached the message, with the secrets starred out.
      expect(err.message).toContain("***");
      expectNoSecret(err, s);
      await s.stop();
      server = null;
    }
  });
});

describe("PostmasterCredentialsSchema", () => {
  it("reads the Secrets Manager JSON and refuses an incomplete one", () => {
    const secret = JSON.stringify({ ...CREDENTIALS, note: "consented by postmaster@example.com" });
    expect(PostmasterCredentialsSchema.parse(JSON.parse(secret))).toEqual(CREDENTIALS);
    expect(PostmasterCredentialsSchema.safeParse({ ...CREDENTIALS, refresh_token: "" }).success).toBe(false);
    const { client_secret: _, ...withoutSecret } = CREDENTIALS;
    expect(PostmasterCredentialsSchema.safeParse(withoutSecret).success).toBe(false);
  });
});
