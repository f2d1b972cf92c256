import { afterEach, describe, expect, it } from "vitest";
import {
  latestSignals,
  type ReputationSignal,
  ReputationSignalSchema,
} from "../../../../../shared/domain/reputation/reputation-signal.ts";
import { ProviderFetchError } from "../../../../../shared/http/provider-http-client.ts";
import { parseSndsData } from "../../../../../shared/sources/reputation/snds/parse-snds-csv.ts";
import {
  SndsFetchError,
  SndsSource,
  type SndsSourceOptions,
  sndsDateParam,
  sndsSignals,
} from "../../../../../shared/sources/reputation/snds/snds-source.ts";
import { type SndsServer, type SndsServerOptions, startSndsServer } from "../../../../support/snds-server.ts";

const KEY = "4f1e2d3c-5b6a-4789-9abc-def012345678";
const NOW = new Date("2026-09-19T06:30:00Z");
// Two days before NOW: the day data.aspx must be asked for.
const DAY = "2026-09-17";
const DATE_PARAM = "091726";

const RED_ROW =
  "198.51.100.10,9/17/2026 12:00 AM,9/17/2026 11:59 PM,52011,52011,51980,RED,0.4%,9/17/2026 8:07 AM,9/17/2026 12:03 PM,37,mta10.esp.example,bounce@mail.example.com,";
const GREEN_ROW =
  "198.51.100.11,9/17/2026 12:00 AM,9/17/2026 11:59 PM,18002,18002,17990,GREEN,< 0.1%,,,0,mta11.esp.example,bounce@mail.example.com,";
const YELLOW_ROW =
  "203.0.113.20,9/17/2026 12:00 AM,9/17/2026 11:59 PM,4210,4210,4205,YELLOW,0.2%,,,0,mta20.esp.example,news@example.org,";
const DATA = `${RED_ROW}\r\n${GREEN_ROW}\r\n${YELLOW_ROW}\r\n`;
const BLOCK_REASON = "Blocked due to user complaints or other evidence of spamming";
const IP_STATUS = `198.51.100.8,198.51.100.15,Yes,${BLOCK_REASON}\r\n203.0.113.0,203.0.113.255,No,\r\n`;

let server: SndsServer | null = null;
let sleeps: number[] = [];

afterEach(async () => {
  await server?.stop();
  server = null;
});

async function start(options: Partial<SndsServerOptions> = {}): Promise<SndsServer> {
  server = await startSndsServer({ key: KEY, data: { [DATE_PARAM]: DATA }, ipStatus: IP_STATUS, ...options });
  return server;
}

function source(overrides: Partial<SndsSourceOptions> = {}): SndsSource {
  sleeps = [];
  return new SndsSource({
    key: KEY,
    baseUrl: server?.baseUrl ?? "http://127.0.0.1:9",
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
  throw new Error("expected collect to fail");
}

function find(signals: readonly ReputationSignal[], subject: string, metric: string): ReputationSignal {
  const s = signals.find((x) => x.subject === subject && x.metric === metric);
  if (!s) throw new Error(`no ${metric} signal for ${subject}`);
  return s;
}

/** The key must not be in the message, the serialised error, the stack or anything it wraps. */
function expectNoKey(value: unknown, key = KEY): void {
  const e = value as Error;
  const text = [e.message, e.stack ?? "", JSON.stringify(e), JSON.stringify(value)].join("\n");
  expect(text).not.toContain(key);
  expect(text).not.toContain(encodeURIComponent(key));
}

describe("SndsSource.collect", () => {
  it("reads data.aspx for the day two days back and ipStatus.aspx, with the key and MMDDYY date", async () => {
    const s = await start();
    const signals = await source().collect(NOW);
    expect(s.log.map((r) => [r.file, r.keyKnown, r.date, r.status])).toEqual([
      ["data.aspx", true, DATE_PARAM, 200],
      ["ipStatus.aspx", true, null, 200],
    ]);
    expect(s.log[0]?.path).toBe(`/snds/data.aspx?key=${KEY}&date=${DATE_PARAM}`);
    expect(s.log[0]?.accept).toMatch(/^text\/csv/);
    for (const sig of signals) expect(ReputationSignalSchema.parse(sig)).toEqual(sig);
    expect(JSON.stringify(signals)).not.toContain(KEY);
  });

  it("turns a RED IP with trap hits into bad signals and a GREEN IP into good ones", async () => {
    await start();
    const signals = await source().collect(NOW);
    const common = { source: "snds", subjectKind: "ip", day: DAY, observedAt: NOW.toISOString() };

    expect(find(signals, "198.51.100.10", "filter_result")).toMatchObject({
      ...common,
      status: "bad",
      value: "RED",
    });
    expect(find(signals, "198.51.100.10", "filter_result").detail).toMatch(
      /RED .* 52011 RCPT commands, 52011 DATA commands and 51980 message recipients/,
    );
    expect(find(signals, "198.51.100.10", "complaint_rate")).toMatchObject({
      ...common,
      status: "bad",
      value: 0.004,
    });
    expect(find(signals, "198.51.100.10", "trap_hits")).toMatchObject({
      ...common,
      status: "bad",
      value: 37,
    });
    expect(find(signals, "198.51.100.10", "trap_hits").detail).toMatch(
      /37 spam-trap hits .* 2026-09-17 08:07/,
    );

    expect(find(signals, "198.51.100.11", "filter_result")).toMatchObject({
      ...common,
      status: "good",
      value: "GREEN",
    });
    const complaint = find(signals, "198.51.100.11", "complaint_rate");
    expect(complaint).toMatchObject({ ...common, status: "good", value: 0.001 });
    expect(complaint.detail).toMatch(/below 0\.1%/);
    expect(find(signals, "198.51.100.11", "trap_hits")).toMatchObject({
      ...common,
      status: "good",
      value: 0,
    });

    expect(find(signals, "203.0.113.20", "filter_result")).toMatchObject({
      status: "warning",
      value: "YELLOW",
    });
    expect(find(signals, "203.0.113.20", "complaint_rate")).toMatchObject({
      status: "warning",
      value: 0.002,
    });
  });

  it("without configured IPs, reports blocked data IPs and blocked ranges no data IP falls in", async () => {
    await start({
      ipStatus: `${IP_STATUS}192.0.2.16,192.0.2.31,Yes,Blocked due to a spam trap hit\r\n`,
    });
    const status = (await source().collect(NOW)).filter((s) => s.metric === "ip_status");
    expect(status.map((s) => [s.subject, s.status, s.day])).toEqual([
      ["198.51.100.10", "bad", null],
      ["198.51.100.11", "bad", null],
      ["192.0.2.16-192.0.2.31", "bad", null],
    ]);
    expect(status[0]?.detail).toContain(BLOCK_REASON);
    expect(status[0]?.detail).toContain("198.51.100.8–198.51.100.15");
  });

  it("gives configured IPs without a row no_data (never clean) and leaves unconfigured IPs out", async () => {
    await start();
    const ips = ["198.51.100.10", "198.51.100.40"];
    const signals = await source({ ips }).collect(NOW);
    expect(new Set(signals.map((s) => s.subject))).toEqual(new Set(ips));
    const missing = signals.filter((s) => s.subject === "198.51.100.40" && s.day !== null);
    expect(missing.map((s) => [s.metric, s.status, s.value, s.day])).toEqual([
      ["filter_result", "no_data", null, DAY],
      ["complaint_rate", "no_data", null, DAY],
      ["trap_hits", "no_data", null, DAY],
    ]);
    expect(missing[0]?.detail).toMatch(/fewer than 100 messages/);
  });

  it("marks configured IPs inside a blocked range bad and the others good, as snapshots", async () => {
    await start();
    const ips = ["198.51.100.8", "198.51.100.15", "198.51.100.16", "203.0.113.20"];
    const status = (await source({ ips }).collect(NOW)).filter((s) => s.metric === "ip_status");
    expect(status.map((s) => [s.subject, s.status, s.value, s.day])).toEqual([
      ["198.51.100.8", "bad", "blocked", null],
      ["198.51.100.15", "bad", "blocked", null],
      // Just past the range, and one in a range listed as not blocked.
      ["198.51.100.16", "good", "not blocked", null],
      ["203.0.113.20", "good", "not blocked", null],
    ]);
    expect(status[0]?.detail).toContain(BLOCK_REASON);
  });

  it("reads an empty data.aspx as no data for every configured IP", async () => {
    await start({ data: {} });
    const signals = await source({ ips: ["198.51.100.10"] }).collect(NOW);
    const daily = signals.filter((s) => s.day !== null);
    expect(daily).toHaveLength(3);
    expect(daily.every((s) => s.status === "no_data")).toBe(true);
  });

  it("asks for now minus daysBack", async () => {
    const s = await start();
    await source({ daysBack: 0 }).collect(NOW);
    await source({ daysBack: 30 }).collect(new Date("2026-03-01T00:00:00Z"));
    expect(s.log.filter((r) => r.file === "data.aspx").map((r) => r.date)).toEqual(["091926", "013026"]);
  });

  it("fails on a sign-in page served with 200, at once, without parsing it as empty data", async () => {
    const s = await start({ unknownKey: "login-page" });
    const wrong = "0badc0de-0000-4000-8000-000000000000";
    const err = await failure(source({ key: wrong }).collect(NOW));
    expect(err).toBeInstanceOf(SndsFetchError);
    expect(err).toMatchObject({ kind: "web_page", status: 200 });
    expect(err.message).toMatch(/served a web page instead of CSV/);
    expect(err.message).toMatch(/key link may have expired/);
    expect(err.message).toMatch(/2026 portal migration/);
    // The page echoes the key in its return URL: none of it reaches the error.
    expectNoKey(err, wrong);
    expect(s.log).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it("fails on an HTML body even when it does not start with <", async () => {
    await start({ data: { [DATE_PARAM]: `\r\n  <!-- x --><html><body>Sign in</body></html>` } });
    const err = await failure(source().collect(NOW));
    expect(err).toMatchObject({ kind: "web_page" });
  });

  it("fails on a 404 saying the key expired or there is no data", async () => {
    const s = await start({ unknownKey: "not-found" });
    const wrong = "0badc0de-0000-4000-8000-000000000000";
    const err = await failure(source({ key: wrong }).collect(NOW));
    expect(err).toMatchObject({ kind: "not_found", status: 404 });
    expect(err.message).toMatch(/HTTP 404 .*the key expired or was revoked, or SNDS has no data/);
    expect(err.message).toMatch(/renew the Automated Data Access key link/);
    expect((err as SndsFetchError).url).toBe(`${s.baseUrl}/snds/data.aspx?key=***&date=${DATE_PARAM}`);
    expectNoKey(err, wrong);
    expect(s.log).toHaveLength(1);
  });

  it("retries a 500 and then succeeds", async () => {
    const s = await start({ faults: [{ kind: "server-error", file: "data.aspx" }] });
    const signals = await source().collect(NOW);
    expect(signals.length).toBeGreaterThan(0);
    expect(sleeps).toEqual([250]);
    expect(s.log.map((r) => [r.file, r.status])).toEqual([
      ["data.aspx", 500],
      ["data.aspx", 200],
      ["ipStatus.aspx", 200],
    ]);
  });

  it("honours Retry-After on a 429", async () => {
    const s = await start({ faults: [{ kind: "rate-limit", file: "ipStatus.aspx", retryAfter: "3" }] });
    await source().collect(NOW);
    expect(sleeps).toEqual([3000]);
    expect(s.log.map((r) => r.status)).toEqual([200, 429, 200]);
  });

  it("cuts a response slower than the timeout and retries it", async () => {
    const s = await start({ faults: [{ kind: "slow", file: "data.aspx", delayMs: 1_000 }] });
    const signals = await source({ timeoutMs: 150 }).collect(NOW);
    expect(signals.length).toBeGreaterThan(0);
    expect(sleeps).toHaveLength(1);
    expect(s.log.filter((r) => r.file === "data.aspx").map((r) => r.fault)).toEqual(["slow", null]);
  });

  it("gives up after maxAttempts of 500s without the key in the error", async () => {
    await start({ faults: [{ kind: "server-error", times: Number.POSITIVE_INFINITY }] });
    const err = await failure(source({ maxAttempts: 3 }).collect(NOW));
    expect(err).toBeInstanceOf(ProviderFetchError);
    expect(err).toMatchObject({ kind: "exhausted", status: 500, attempts: 3 });
    expect(err.message).toContain("key=***");
    expectNoKey(err);
  });

  it("leaves out a malformed row, naming its row and column, and reads the others", async () => {
    const bad = GREEN_ROW.replace("18002,18002", "18002,many");
    await start({ data: { [DATE_PARAM]: `${RED_ROW}\r\n${bad}\r\n` } });
    const rows: { where: string; reason: string }[] = [];
    const signals = await source({ ips: ["198.51.100.10", "198.51.100.11"] }).collect(NOW, {
      badRow: (r) => rows.push(r),
    });
    expect(rows).toEqual([
      {
        where: "data.aspx row 2",
        reason: 'SNDS data.aspx row 2, column 5 (DATA commands): "many" is not a whole number',
      },
    ]);
    expect(find(signals, "198.51.100.10", "filter_result")).toMatchObject({ status: "bad", value: "RED" });
    // The IP of the unreadable row is not "below SNDS's volume floor": its day is unknown.
    const unread = find(signals, "198.51.100.11", "filter_result");
    expect(unread).toMatchObject({ status: "unknown", day: DAY });
    expect(unread.detail).toContain("could not be read");
    expect(rows.map((r) => r.reason).join("")).not.toContain(KEY);
  });

  it("fails, without the key, when no row of data.aspx can be read (a changed format)", async () => {
    const bad = GREEN_ROW.replace("18002,18002", "18002,many");
    await start({ data: { [DATE_PARAM]: `${bad}\r\n` } });
    const err = await failure(source({ maxAttempts: 2 }).collect(NOW));
    expect(err.message).toContain(
      'SNDS data.aspx row 1, column 5 (DATA commands): "many" is not a whole number',
    );
    expectNoKey(err);
  });

  it("says nothing about blocks, rather than 'not blocked', when an ip status row cannot be read", async () => {
    await start({
      ipStatus: `198.51.100.8,198.51.100.15,Maybe,${BLOCK_REASON}\r\n203.0.113.0,203.0.113.255,No,\r\n`,
    });
    const rows: { where: string; reason: string }[] = [];
    const signals = await source({ ips: ["198.51.100.10"] }).collect(NOW, { badRow: (r) => rows.push(r) });
    expect(rows.map((r) => r.where)).toEqual(["ipStatus.aspx row 1"]);
    expect(find(signals, "198.51.100.10", "ip_status")).toMatchObject({ status: "unknown", value: null });
  });

  it("keeps the key out of network errors", async () => {
    const s = await start();
    const baseUrl = s.baseUrl;
    await s.stop();
    server = null;
    const err = await failure(source({ baseUrl, maxAttempts: 2 }).collect(NOW));
    expect(err.message).toMatch(/network error/);
    expectNoKey(err);
  });

  it("redacts a key with characters URL encoding changes", async () => {
    const odd = "key with+plus/slash&amp";
    await start({ unknownKey: "not-found" });
    const err = await failure(source({ key: odd }).collect(NOW));
    expectNoKey(err, odd);
    expect(err.message).not.toContain(new URLSearchParams({ k: odd }).toString().slice(2));
  });

  it("rejects bad options without echoing the key", () => {
    expect(() => new SndsSource({ key: " " })).toThrow(/key is empty/);
    expect(() => new SndsSource({ key: KEY, daysBack: -1 })).toThrow(/daysBack/);
    expect(() => new SndsSource({ key: KEY, ips: ["2001:db8::1"] })).toThrow(/not an IPv4 address/);
  });
});

describe("sndsSignals", () => {
  const observedAt = NOW.toISOString();
  const row = (rate: string) => RED_ROW.replace("RED,0.4%", `GREEN,${rate}`);

  it("judges complaint rates: bad at 0.3% or more, a warning above 0.1%, else good", () => {
    const rates = ["0.1%", "0.11%", "0.29%", "0.3%", "0.7%", "< 0.1%"];
    const data = parseSndsData(rates.map(row).join("\r\n"));
    const signals = sndsSignals({ day: DAY, data, status: [], ips: null, observedAt });
    expect(signals.filter((s) => s.metric === "complaint_rate").map((s) => [s.value, s.status])).toEqual([
      [0.001, "good"],
      [0.0011, "warning"],
      [0.0029, "warning"],
      [0.003, "bad"],
      [0.007, "bad"],
      [0.001, "good"],
    ]);
  });

  it("dates a row by the day its activity window closes, the day asked for, like the no_data of a quiet IP", () => {
    // A real-format window (sndslib's fixtures): 9/28 9 PM to 9/29 9 PM, asked for as 9/29.
    const red =
      "198.51.100.10,9/28/2026 9:00 PM,9/29/2026 9:00 PM,47386,47386,47384,RED,0.4%,9/28/2026 9:08 PM,9/29/2026 8:09 PM,40,,,";
    const data = parseSndsData(red);
    const quiet = "198.51.100.11";
    const signals = sndsSignals({
      day: "2026-09-29",
      data,
      status: [],
      ips: ["198.51.100.10", quiet],
      observedAt: "2026-10-01T18:00:00.000Z",
    });
    // One run, one day: the row and the quiet IP's no_data alike.
    expect(new Set(signals.filter((s) => s.day !== null).map((s) => s.day))).toEqual(new Set(["2026-09-29"]));
    expect(find(signals, quiet, "filter_result")).toMatchObject({ status: "no_data", day: "2026-09-29" });

    // The morning run had no row yet (no_data for the day); the evening run's fresh RED is the latest value.
    const morning = sndsSignals({
      day: "2026-09-29",
      data: [],
      status: [],
      ips: ["198.51.100.10"],
      observedAt: "2026-10-01T06:00:00.000Z",
    });
    const latest = latestSignals([...morning, ...signals]).find(
      (s) => s.subject === "198.51.100.10" && s.metric === "filter_result",
    );
    expect(latest).toMatchObject({ status: "bad", value: "RED", day: "2026-09-29" });
  });

  it("puts a window ending exactly at midnight on the day before", () => {
    const data = parseSndsData(RED_ROW.replace("9/17/2026 11:59 PM", "9/18/2026 12:00 AM"));
    const signals = sndsSignals({ day: DAY, data, status: [], ips: ["198.51.100.10"], observedAt });
    expect(new Set(signals.filter((s) => s.day !== null).map((s) => s.day))).toEqual(new Set([DAY]));
  });

  it("formats the SNDS date parameter as MMDDYY", () => {
    expect(sndsDateParam("2026-09-17")).toBe("091726");
    expect(sndsDateParam("2027-01-03")).toBe("010327");
  });
});
