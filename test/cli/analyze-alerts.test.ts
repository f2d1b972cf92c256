import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateHistory } from "../../shared/simulation/b2b-history.ts";
import { LocalObjectStore } from "../../shared/store/local-object-store.ts";
import { type DnsServer, startDnsServer } from "../support/dns-server.ts";
import { runCli } from "../support/run-cli.ts";
import { storeHistory } from "../support/store-history.ts";

const DAY = 86_400_000;
const START = new Date("2026-09-01T00:00:00.000Z");
const day = (n: number) => new Date(START.getTime() + n * DAY);

// A Proofpoint problem that starts at one organisation, spreads to many behind the same gateway the next
// day, then stops: three hourly-job runs should say alert, worse, resolved — once each.
describe("analyze alerts over a growing incident", () => {
  let dns: DnsServer;
  let data: string;

  beforeAll(async () => {
    const history = generateHistory({
      seed: 17,
      start: START,
      days: 42,
      organisations: 250,
      incidents: [
        { kind: "gateway_user_unknown_one_org", at: day(37), gateway: "proofpoint" },
        { kind: "gateway_policy_change", at: day(38), gateway: "proofpoint" },
      ],
    });
    dns = await startDnsServer(history.zone);
    data = await mkdtemp(join(tmpdir(), "br-alerts-"));
    const store = new LocalObjectStore(data);
    await storeHistory(store, history.events, "history-17");
  });
  afterAll(async () => {
    await dns?.stop();
  });

  it("sends one alert, one escalation, then one all-clear, each SMS within 140 characters", async () => {
    const analyze = (at: Date) =>
      runCli(["analyze", "--data", data, "--at", at.toISOString(), "--dns-server", dns.address]);
    const kinds: string[] = [];
    let smsLines = 0;
    for (const at of [day(38), day(39), day(40), day(41)]) {
      const r = await analyze(at);
      expect(r.status, r.stderr).toBe(0);
      kinds.push(
        ...r.stderr
          .split("\n")
          .filter((l) => l.startsWith("alerts: sent"))
          .map((l) => l.replace(/^alerts: sent (\w+) for (.*)$/, "$1 $2")),
      );
      for (const sms of r.stdout.matchAll(/^SMS: (.*)$/gm)) {
        smsLines++;
        expect((sms[1] ?? "").length).toBeLessThanOrEqual(140);
      }
    }
    // The console notifier printed each message, with the text a phone would get.
    expect(smsLines).toBe(3);
    expect(kinds).toEqual([
      "new recipient_filter|proofpoint",
      "escalated recipient_filter|proofpoint",
      "resolved recipient_filter|proofpoint",
    ]);
  }, 120_000);
});
