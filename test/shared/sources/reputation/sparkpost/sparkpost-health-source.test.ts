import { afterEach, describe, expect, it } from "vitest";
import { ReputationSignalSchema } from "../../../../../shared/domain/reputation/reputation-signal.ts";
import { ProviderFetchError } from "../../../../../shared/http/provider-http-client.ts";
import {
  SparkpostHealthSource,
  type SparkpostHealthSourceOptions,
  SparkpostSignalsNotEnabledError,
} from "../../../../../shared/sources/reputation/sparkpost/sparkpost-health-source.ts";
import {
  type FakeHealthRow,
  SIGNALS_HEALTH_PATH,
  type SparkpostSignalsServer,
  startSparkpostSignalsServer,
} from "../../../../support/sparkpost-signals-server.ts";

const KEY = "5f9a1c0e7b2d4c6e8a0b1c2d3e4f5a6b7c8d9e0f";
const NOW = new Date("2026-09-18T06:00:00Z");
const DAYS = ["2026-09-15", "2026-09-16", "2026-09-17"];

const ROWS: FakeHealthRow[] = [
  {
    domain: "mail.example.com",
    scores: { "2026-09-14": 0.95, "2026-09-15": 0.91, "2026-09-16": 0.7989965677, "2026-09-17": 0.55 },
  },
  // 2026-09-16 is missing: below Signals' daily volume floor.
  { domain: "news.example.com", scores: { "2026-09-15": 0.84, "2026-09-17": 0.62 } },
];

let server: SparkpostSignalsServer | null = null;
let sleeps: number[] = [];

afterEach(async () => {
  await server?.stop();
  server = null;
  sleeps = [];
});

function sourceFor(
  s: SparkpostSignalsServer,
  extra: Partial<SparkpostHealthSourceOptions> = {},
): SparkpostHealthSource {
  return new SparkpostHealthSource({
    apiKey: KEY,
    region: "us",
    baseUrl: s.baseUrl,
    lookbackDays: 3,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...extra,
  });
}

function table(signals: readonly { subject: string; day: string | null; status: string; value: unknown }[]) {
  return signals.map((s) => [s.subject, s.day, s.status, s.value]);
}

describe("SparkpostHealthSource", () => {
  it("judges each sending domain's daily health score, a missing day as no data", async () => {
    server = await startSparkpostSignalsServer({ apiKey: KEY, rows: ROWS });
    const signals = await sourceFor(server).collect(NOW);

    for (const s of signals) expect(ReputationSignalSchema.parse(s)).toEqual(s);
    expect(
      signals.every(
        (s) => s.source === "sparkpost" && s.subjectKind === "domain" && s.metric === "health_score",
      ),
    ).toBe(true);
    expect(table(signals)).toEqual([
      ["mail.example.com", "2026-09-15", "good", 0.91],
      ["mail.example.com", "2026-09-16", "warning", 0.7989965677],
      ["mail.example.com", "2026-09-17", "bad", 0.55],
      ["news.example.com", "2026-09-15", "good", 0.84],
      ["news.example.com", "2026-09-16", "no_data", null],
      ["news.example.com", "2026-09-17", "warning", 0.62],
    ]);
    expect(signals[1]?.detail).toBe(
      "SparkPost health score 79.9 is below 80, SparkPost's good level (bad below 60).",
    );
    expect(signals[4]?.detail).toContain("no health score for this day");

    // The raw key (no scheme) and the three days ending yesterday.
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({
      path: SIGNALS_HEALTH_PATH,
      authorization: KEY,
      status: 200,
      query: { from: DAYS[0], to: DAYS[2], offset: "0" },
    });
  });

  it("pages by offset, keeps subaccounts apart and reports configured domains SparkPost left out", async () => {
    server = await startSparkpostSignalsServer({
      apiKey: KEY,
      maxPageSize: 1,
      rows: [
        ...ROWS,
        {
          domain: "mail.example.com",
          sid: 101,
          scores: { "2026-09-15": 0.4, "2026-09-16": 0.4, "2026-09-17": 0.4 },
        },
      ],
    });
    const signals = await sourceFor(server, {
      domains: ["MAIL.example.com", "quiet.example.com"],
    }).collect(NOW);

    expect(server.requests.map((r) => r.query.offset)).toEqual(["0", "1", "2"]);
    expect(signals.map((s) => `${s.subject} ${s.metric}`)).toEqual([
      ...DAYS.map(() => "mail.example.com health_score"),
      ...DAYS.map(() => "mail.example.com health_score:subaccount=101"),
      ...DAYS.map(() => "quiet.example.com health_score"),
    ]);
    expect(
      signals.filter((s) => s.subject === "quiet.example.com").every((s) => s.status === "no_data"),
    ).toBe(true);
    expect(signals.filter((s) => s.metric.endsWith("=101")).every((s) => s.status === "bad")).toBe(true);
  });

  it("says Signals is not enabled on a 404, without retrying", async () => {
    server = await startSparkpostSignalsServer({ apiKey: KEY, rows: ROWS, signalsEnabled: false });
    const err = await sourceFor(server)
      .collect(NOW)
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(SparkpostSignalsNotEnabledError);
    expect((err as Error).message).toMatch(/Signals is not enabled for this account/);
    expect((err as Error).message).not.toContain(KEY);
    expect(server.requests).toHaveLength(1);
  });

  it("fails on malformed JSON after retrying it", async () => {
    server = await startSparkpostSignalsServer({ apiKey: KEY, rows: ROWS });
    server.failNext({ status: 200, body: "<html>maintenance</html>" });
    // Not the documented shape at all (no results.data): the answer fails, unlike one unreadable row.
    server.failNext({ status: 200, body: JSON.stringify({ results: { total_count: 1 } }) });
    const err = await sourceFor(server, { maxAttempts: 2 })
      .collect(NOW)
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(ProviderFetchError);
    expect(err).toMatchObject({ kind: "exhausted", attempts: 2 });
    expect((err as Error).message).toMatch(/malformed response \(results\.data: /);
    expect(sleeps).toHaveLength(1);
  });

  it("leaves out a row or a day it cannot read, counts it, and reads the rest", async () => {
    server = await startSparkpostSignalsServer({ apiKey: KEY, rows: ROWS });
    server.failNext({
      status: 200,
      body: JSON.stringify({
        results: {
          total_count: 3,
          data: [
            // SparkPost's own "no results" row (2web2ui's 200.get.no-results.json): nothing to read, not bad.
            { sid: -1, current_weights: [], history: [] },
            { sid: -1, history: [{ dt: "2026-09-16", health_score: "0.91" }] },
            {
              sending_domain: "mail.example.com",
              sid: -1,
              history: [
                { dt: "2026-09-16", health_score: "0.91" },
                { dt: "16 Sep", health_score: "0.5" },
              ],
            },
          ],
        },
      }),
    });
    const rows: { where: string; reason: string }[] = [];
    const signals = await sourceFor(server).collect(NOW, { badRow: (r) => rows.push(r) });
    expect(rows).toEqual([
      { where: "health-score results.data[1]", reason: "the row names no sending domain" },
      { where: "health-score results.data[2].history[1]", reason: expect.stringMatching(/^dt: /) },
    ]);
    expect(signals.find((x) => x.subject === "mail.example.com" && x.day === "2026-09-16")).toMatchObject({
      status: "good",
      value: 0.91,
    });
  });

  it("stops at once on a refused key", async () => {
    server = await startSparkpostSignalsServer({ apiKey: KEY, rows: ROWS });
    await expect(sourceFor(server, { apiKey: "not-the-key" }).collect(NOW)).rejects.toMatchObject({
      name: "ProviderFetchError",
      kind: "auth",
      status: 401,
    });
  });

  it("sends EU accounts to api.eu.sparkpost.com", async () => {
    const urls: string[] = [];
    const source = new SparkpostHealthSource({
      apiKey: KEY,
      region: "eu",
      maxAttempts: 1,
      fetch: async (input) => {
        urls.push(String(input));
        throw new TypeError("offline");
      },
    });
    await expect(source.collect(NOW)).rejects.toThrow(/network error/);
    expect(urls[0]).toMatch(/^https:\/\/api\.eu\.sparkpost\.com\/api\/v1\/signals\/health-score\//);
  });
});
