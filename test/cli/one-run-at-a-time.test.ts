import { cp, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateHistory } from "../../shared/simulation/b2b-history.ts";
import { startMailgunServer } from "../../shared/simulation/mailgun-api-server.ts";
import { keys } from "../../shared/store/keys.ts";
import { LocalObjectStore } from "../../shared/store/local-object-store.ts";
import { readNdjsonGz } from "../../shared/store/ndjson-gzip.ts";
import { type DnsServer, startDnsServer } from "../support/dns-server.ts";
import { makeMailgunEvents } from "../support/mailgun-events.ts";
import { runCli } from "../support/run-cli.ts";
import { storeHistory } from "../support/store-history.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

async function eventIds(dir: string): Promise<string[]> {
  const store = new LocalObjectStore(dir);
  const ids: string[] = [];
  for await (const object of store.list(keys.eventsPrefix())) {
    for await (const { value } of readNdjsonGz(store, object.key)) ids.push((value as { id: string }).id);
  }
  return ids.sort();
}

/** The report less what differs between two runs of the same analysis. */
async function comparableReport(dir: string): Promise<unknown> {
  const {
    generatedAt: _g,
    runId: _r,
    ...rest
  } = JSON.parse(await readFile(join(dir, "reports", "latest.json"), "utf8"));
  return rest;
}

describe("one run at a time per job and data folder (CLI)", () => {
  it("two concurrent ingests store every event once, as one clean run does", async () => {
    const apiKey = "key-lease-test";
    const now = Date.now();
    const events = makeMailgunEvents({
      count: 600,
      start: new Date(now - 5 * HOUR),
      seed: 16,
      spanMs: 4 * HOUR,
    });
    // Every answer takes 300 ms, so the two runs overlap.
    const server = await startMailgunServer({
      apiKey,
      events,
      faults: [{ kind: "slow", times: Number.POSITIVE_INFINITY, delayMs: 300 }],
    });
    try {
      const dir = await mkdtemp(join(tmpdir(), "br-lease-ingest-"));
      const config = join(dir, "bounce-radar.json");
      await writeFile(
        config,
        JSON.stringify({
          sources: [
            {
              id: "mg-main",
              provider: "mailgun",
              domains: ["mg.example.com"],
              apiKeySecret: "mailgun/api-key",
              baseUrl: server.baseUrl,
              startAt: new Date(now - 6 * HOUR).toISOString(),
              windowMinutes: 60,
            },
          ],
        }),
      );
      const env = { BOUNCE_RADAR_SECRET_MAILGUN_API_KEY: apiKey };
      const ingest = (data: string, ...more: string[]) =>
        runCli(["ingest", "--data", data, "--config", config, ...more], env);
      const clean = await ingest(join(dir, "clean"));
      expect(clean.status, clean.stderr).toBe(0);

      const shared = join(dir, "shared");
      const both = await Promise.all([ingest(shared, "--wait", "2m"), ingest(shared, "--wait", "2m")]);
      expect(both.map((r) => r.status)).toEqual([0, 0]);
      // They did overlap: one waited for the other.
      expect(both.filter((r) => /waiting for bounce-radar ingest \(pid \d+/.test(r.stderr))).toHaveLength(1);
      const ids = await eventIds(shared);
      expect(ids.length).toBe(new Set(ids).size);
      expect(ids).toEqual(await eventIds(join(dir, "clean")));
      expect(ids.length).toBeGreaterThan(500);

      // Without --wait the second run does nothing and says who holds the folder until when.
      const racing = await Promise.all([ingest(join(dir, "race")), ingest(join(dir, "race"))]);
      expect(racing.map((r) => r.status).sort()).toEqual([0, 3]);
      const refused = racing.find((r) => r.status === 3);
      expect(refused?.stderr).toMatch(
        /another ingest-events run holds the lease on this data folder: bounce-radar ingest \(pid \d+.*until \d{4}-.*state\/leases\/ingest-events\.json.*--wait/s,
      );
      expect(await eventIds(join(dir, "race"))).toEqual(ids);
    } finally {
      await server.stop();
    }
  }, 120_000);

  describe("analyze", () => {
    const START = new Date("2026-09-01T00:00:00.000Z");
    const day = (n: number) => new Date(START.getTime() + n * DAY);
    let dns: DnsServer;
    let seeded: string;

    beforeAll(async () => {
      const history = generateHistory({
        seed: 17,
        start: START,
        days: 40,
        organisations: 150,
        incidents: [{ kind: "gateway_user_unknown_one_org", at: day(38), gateway: "proofpoint" }],
      });
      dns = await startDnsServer(history.zone);
      seeded = await mkdtemp(join(tmpdir(), "br-lease-analyze-"));
      await storeHistory(new LocalObjectStore(seeded), history.events, "history-17");
    });
    afterAll(async () => {
      await dns?.stop();
    });

    const copyOfSeeded = async (name: string) => {
      const dir = join(await mkdtemp(join(tmpdir(), "br-lease-analyze-")), name);
      await cp(seeded, dir, { recursive: true });
      return dir;
    };
    const analyze = (data: string, at: Date, ...more: string[]) =>
      runCli(["analyze", "--data", data, "--at", at.toISOString(), "--dns-server", dns.address, ...more]);
    const sentLines = (stderr: string) => stderr.split("\n").filter((l) => l.startsWith("alerts: sent"));

    it("two concurrent analyses: one alert, and the same history and report as one clean run", async () => {
      const clean = await copyOfSeeded("clean");
      const first = await analyze(clean, day(39));
      expect(first.status, first.stderr).toBe(0);
      expect(sentLines(first.stderr)).toEqual(["alerts: sent new for recipient_filter|proofpoint"]);

      const shared = await copyOfSeeded("shared");
      const both = await Promise.all([
        analyze(shared, day(39), "--wait", "5m"),
        analyze(shared, day(39), "--wait", "5m"),
      ]);
      expect(both.map((r) => r.status)).toEqual([0, 0]);
      expect(both.flatMap((r) => sentLines(r.stderr))).toEqual([
        "alerts: sent new for recipient_filter|proofpoint",
      ]);
      expect(await comparableReport(shared)).toEqual(await comparableReport(clean));
      // The recipient history each left behind: a rerun on each folder reads it and reports the same.
      for (const dir of [clean, shared]) expect((await analyze(dir, day(39), "--no-alerts")).status).toBe(0);
      expect(await comparableReport(shared)).toEqual(await comparableReport(clean));

      const racing = await Promise.all([analyze(shared, day(39)), analyze(shared, day(39))]);
      expect(racing.map((r) => r.status).sort()).toEqual([0, 3]);
      expect(racing.find((r) => r.status === 3)?.stderr).toMatch(
        /another analyze run holds the lease on this data folder: bounce-radar analyze \(pid \d+/,
      );
    }, 180_000);

    it("a backfill between two live runs sends nothing and leaves the alert state as it was", async () => {
      const dir = await copyOfSeeded("backfill");
      const alertState = () => readFile(join(dir, "state", "alerts.json"), "utf8");
      const live = await analyze(dir, day(39));
      expect(sentLines(live.stderr)).toEqual(["alerts: sent new for recipient_filter|proofpoint"]);
      const before = await alertState();

      // Yesterday's window: the incident had not started, which would have been an all-clear.
      const yesterday = await analyze(dir, day(38));
      expect(yesterday.status, yesterday.stderr).toBe(0);
      expect(sentLines(yesterday.stderr)).toEqual([]);
      expect(yesterday.stderr).toMatch(
        /alerts: skipped \(a backfill: its window ends at .* before the last live run's/,
      );
      expect(yesterday.stdout).not.toMatch(/RESOLVED|ALERT/);
      // Another window at the live edge is ad hoc too.
      const sixHours = await analyze(dir, day(39), "--window", "6h");
      expect(sixHours.status, sixHours.stderr).toBe(0);
      expect(sixHours.stderr).toMatch(/alerts: skipped \(an ad-hoc --window \(6h\)/);
      expect(await alertState()).toBe(before);

      // The next live run sees the incident still open: nothing new to send, no second alert.
      const next = await analyze(dir, new Date(day(39).getTime() + HOUR));
      expect(next.status, next.stderr).toBe(0);
      expect(sentLines(next.stderr)).toEqual([]);

      // Asked explicitly, a backfill runs the lifecycle (here: the incident is not in that window).
      const forced = await analyze(dir, day(38), "--alerts");
      expect(sentLines(forced.stderr)).toEqual(["alerts: sent resolved for recipient_filter|proofpoint"]);
    }, 180_000);
  });
});
