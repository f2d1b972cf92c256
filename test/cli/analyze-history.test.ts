import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReportSchema } from "../../shared/domain/report/report-schema.ts";
import { generateHistory } from "../../shared/simulation/b2b-history.ts";
import { LocalObjectStore } from "../../shared/store/local-object-store.ts";
import { launchChromium } from "../support/chromium.ts";
import { type DnsServer, startDnsServer } from "../support/dns-server.ts";
import { runCli as run } from "../support/run-cli.ts";
import { storeHistory } from "../support/store-history.ts";

// The must-show: a 40k-event, 250-organisation history through the CLI, report validated and opened
// in Chromium.
describe("bounce-radar analyze on a six-week, 250-organisation history", () => {
  const start = new Date("2026-09-01T00:00:00.000Z");
  const at = new Date(start.getTime() + 41 * 86_400_000);
  let dns: DnsServer;
  let data: string;
  let events = 0;

  beforeAll(async () => {
    const history = generateHistory({
      seed: 7,
      start,
      days: 42,
      organisations: 250,
      incidents: [
        { kind: "gateway_policy_change", at: new Date(at.getTime() - 86_400_000), gateway: "mimecast" },
      ],
    });
    events = history.events.length;
    dns = await startDnsServer(history.zone);
    data = await mkdtemp(join(tmpdir(), "br-history-"));
    const store = new LocalObjectStore(data);
    await storeHistory(store, history.events, "history-7");
  });
  afterAll(async () => {
    await dns?.stop();
  });

  it("prints only a contract-valid report with --json, and its HTML renders in Chromium without errors", async () => {
    expect(events).toBeGreaterThanOrEqual(40_000);
    const r = await run([
      "analyze",
      "--data",
      data,
      "--at",
      at.toISOString(),
      "--dns-server",
      dns.address,
      "--json",
    ]);
    expect(r.status, r.stderr).toBe(0);
    const report = ReportSchema.parse(JSON.parse(r.stdout));
    expect(report.organisations.length).toBeGreaterThan(200);
    expect(report.incidents.filter((i) => i.alert).map((i) => [i.verdict, i.scope.gateways])).toEqual([
      ["recipient_filter", ["mimecast"]],
    ]);

    const html = join(data, "reports", "latest.html");
    expect(await readFile(html, "utf8")).toContain(report.runId);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error" || m.type() === "warning") problems.push(m.text());
      });
      page.on("pageerror", (e) => problems.push(e.message));
      await page.goto(pathToFileURL(html).href);
      expect(await page.locator("h1, h2").first().isVisible()).toBe(true);
      expect(await page.locator("svg").count()).toBeGreaterThan(1);
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
