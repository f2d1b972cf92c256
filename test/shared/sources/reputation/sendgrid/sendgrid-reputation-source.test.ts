import { afterEach, describe, expect, it } from "vitest";
import { ReputationSignalSchema } from "../../../../../shared/domain/reputation/reputation-signal.ts";
import { ProviderFetchError } from "../../../../../shared/http/provider-http-client.ts";
import {
  SendgridReputationSource,
  type SendgridReputationSourceOptions,
} from "../../../../../shared/sources/reputation/sendgrid/sendgrid-reputation-source.ts";
import {
  type SendgridReputationServer,
  type SeqAnswer,
  startSendgridReputationServer,
} from "../../../../support/sendgrid-reputation-server.ts";

const KEY = "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";
const NOW = new Date("2026-09-18T10:00:00Z");
const DAYS = [
  "2026-09-11",
  "2026-09-12",
  "2026-09-13",
  "2026-09-14",
  "2026-09-15",
  "2026-09-16",
  "2026-09-17",
];

let server: SendgridReputationServer | null = null;
let sleeps: number[] = [];

afterEach(async () => {
  await server?.stop();
  server = null;
  sleeps = [];
});

async function start(reputation: number, seq: SeqAnswer): Promise<SendgridReputationServer> {
  server = await startSendgridReputationServer({ apiKey: KEY, account: { type: "paid", reputation }, seq });
  return server;
}

function sourceFor(
  s: SendgridReputationServer,
  extra: Partial<SendgridReputationSourceOptions> = {},
): SendgridReputationSource {
  return new SendgridReputationSource({
    apiKey: KEY,
    region: "global",
    baseUrl: s.baseUrl,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...extra,
  });
}

function find(
  signals: readonly { metric: string; day: string | null }[],
  metric: string,
  day: string | null,
) {
  return signals.find((s) => s.metric === metric && s.day === day);
}

describe("SendgridReputationSource", () => {
  it("judges reputation 72 bad and reads SEQ 202 as no data for every day", async () => {
    const s = await start(72, { status: 202 });
    const signals = await sourceFor(s).collect(NOW);

    for (const sig of signals) expect(ReputationSignalSchema.parse(sig)).toEqual(sig);
    expect(signals.every((x) => x.source === "sendgrid" && x.subject === "sendgrid")).toBe(true);
    expect(signals.every((x) => x.subjectKind === "account")).toBe(true);
    expect(find(signals, "reputation", null)).toMatchObject({
      status: "bad",
      value: 72,
      detail: expect.stringContaining("below 80"),
    });
    const seq = signals.filter((x) => x.metric.startsWith("seq_"));
    expect(seq).toHaveLength(DAYS.length * 2);
    expect(seq.every((x) => x.status === "no_data" && x.value === null)).toBe(true);
    expect(seq.map((x) => x.day)).toEqual(DAYS.flatMap((d) => [d, d]));
    expect(seq[0]?.detail).toContain("HTTP 202");

    // Bearer key on both calls; SEQ asked for the seven days ending yesterday.
    expect(s.requests.map((r) => [r.path, r.status, r.authorization])).toEqual([
      ["/v3/user/account", 200, `Bearer ${KEY}`],
      ["/v3/engagementquality/scores", 202, `Bearer ${KEY}`],
    ]);
    expect(s.requests[1]?.query).toEqual({ from: "2026-09-11", to: "2026-09-17" });
  });

  it("judges SEQ days: scores, an ineligible day and a day left out", async () => {
    const s = await start(97, {
      result: [
        {
          user_id: "180",
          username: "acme",
          date: "2026-09-17",
          score: 2,
          metrics: {
            engagement_recency: 3,
            open_rate: 3,
            bounce_classification: 1,
            bounce_rate: 4,
            spam_rate: 2,
          },
        },
        {
          user_id: "180",
          date: "2026-09-16",
          score: 3,
          metrics: {
            engagement_recency: 3,
            open_rate: 3,
            bounce_classification: 4,
            bounce_rate: 4,
            spam_rate: 4,
          },
        },
        { user_id: "180", date: "2026-09-15" }, // not eligible: score and metrics left out
      ],
    });
    const signals = await sourceFor(s).collect(NOW);

    expect(find(signals, "reputation", null)).toMatchObject({ status: "good", value: 97 });
    expect(find(signals, "seq_score", "2026-09-17")).toMatchObject({ status: "bad", value: 2 });
    expect(find(signals, "seq_bounce_classification", "2026-09-17")).toMatchObject({
      status: "bad",
      value: 1,
      detail: expect.stringContaining("reputation or content"),
    });
    expect(find(signals, "seq_score", "2026-09-16")).toMatchObject({ status: "warning", value: 3 });
    expect(find(signals, "seq_bounce_classification", "2026-09-16")).toMatchObject({
      status: "good",
      value: 4,
    });
    expect(find(signals, "seq_score", "2026-09-15")).toMatchObject({
      status: "no_data",
      detail: expect.stringContaining("1,000 messages"),
    });
    expect(find(signals, "seq_score", "2026-09-14")).toMatchObject({
      status: "no_data",
      detail: expect.stringContaining("has no"),
    });
    expect(signals).toHaveLength(1 + DAYS.length * 2);
  });

  it("reads only the reputation when SEQ is off", async () => {
    const s = await start(90, { status: 202 });
    const signals = await sourceFor(s, { seq: false }).collect(NOW);
    expect(signals).toEqual([
      expect.objectContaining({ metric: "reputation", status: "warning", value: 90 }),
    ]);
    expect(s.requests.map((r) => r.path)).toEqual(["/v3/user/account"]);
  });

  it("stops at once on a refused key, without showing the key", async () => {
    const s = await start(100, { result: [] });
    const wrong = "SG.wrongwrongwrong.wrongwrongwrongwrongwrongwrongwrongwrongwrong";
    const err = await sourceFor(s, { apiKey: wrong })
      .collect(NOW)
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(ProviderFetchError);
    expect(err).toMatchObject({ kind: "auth", status: 401, attempts: 1 });
    expect((err as Error).message).toContain("SendGrid refused the credential (HTTP 401)");
    expect((err as Error).message).not.toContain(wrong);
    expect((err as Error).message).not.toContain(KEY);
    expect(s.requests).toHaveLength(1);
  });

  it("waits out a 429's Retry-After, then succeeds", async () => {
    const s = await start(99, { result: [] });
    s.failNext("/v3/user/account", { status: 429, headers: { "retry-after": "7" } });
    s.failNext("/v3/engagementquality/scores", { status: 429, headers: { "retry-after": "2" } });
    const signals = await sourceFor(s).collect(NOW);
    expect(find(signals, "reputation", null)).toMatchObject({ status: "good", value: 99 });
    expect(sleeps).toEqual([7000, 2000]);
    expect(s.requests.map((r) => r.status)).toEqual([429, 200, 429, 200]);
  });

  it("fails on a malformed body after retrying it", async () => {
    const s = await start(99, { result: [] });
    s.failNext("/v3/user/account", { status: 200, body: "{not json" });
    s.failNext("/v3/user/account", { status: 200, body: JSON.stringify({ type: "paid" }) });
    const err = await sourceFor(s, { maxAttempts: 2 })
      .collect(NOW)
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toMatchObject({ kind: "exhausted", attempts: 2 });
    expect((err as Error).message).toMatch(/malformed response \(reputation: /);
  });

  it("sends EU accounts to api.eu.sendgrid.com", async () => {
    const urls: string[] = [];
    const source = new SendgridReputationSource({
      apiKey: KEY,
      region: "eu",
      maxAttempts: 1,
      fetch: async (input) => {
        urls.push(String(input));
        throw new TypeError("offline");
      },
    });
    await expect(source.collect(NOW)).rejects.toThrow(/network error/);
    expect(urls).toEqual(["https://api.eu.sendgrid.com/v3/user/account"]);
  });
});
