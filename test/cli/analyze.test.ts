import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReportSchema } from "../../shared/domain/report/report-schema.ts";
import { type DnsServer, startDnsServer } from "../support/dns-server.ts";
import { runCli as run } from "../support/run-cli.ts";
import { makeSesRecords } from "../support/ses-events.ts";

describe("bounce-radar analyze", () => {
  let dns: DnsServer;
  let data: string;

  beforeAll(async () => {
    dns = await startDnsServer({});
    const dir = await mkdtemp(join(tmpdir(), "br-analyze-"));
    data = join(dir, "data");
    const file = join(dir, "ses.ndjson");
    const records = makeSesRecords({
      count: 3000,
      start: new Date("2026-11-01T00:00:00Z"),
      seed: 3,
      spanMs: 14 * 86_400_000,
    });
    await writeFile(file, records.map((r) => JSON.stringify(r)).join("\n"));
    const imported = await run(["import", "--source", "ses", "--data", data, file]);
    expect(imported.status).toBe(0);
  });
  afterAll(async () => {
    await dns.stop();
  });

  it("--json prints only a report that validates against the contract, and writes report files", async () => {
    const r = await run([
      "analyze",
      "--data",
      data,
      "--at",
      "2026-11-15T00:00:00Z",
      "--dns-server",
      dns.address,
      "--json",
    ]);
    expect(r.status).toBe(0);
    const report = ReportSchema.parse(JSON.parse(r.stdout));
    expect(report.window).toEqual({ start: "2026-11-14T00:00:00.000Z", end: "2026-11-15T00:00:00.000Z" });
    expect(report.totals.attempts).toBeGreaterThan(0);
    expect(dns.queries.length).toBeGreaterThan(0);
    const latest = JSON.parse(await readFile(join(data, "reports", "latest.json"), "utf8"));
    expect(latest.runId).toBe(report.runId);
    const html = await readFile(
      join(data, "reports", "2026", "11", "14", report.runId, "report.html"),
      "utf8",
    );
    expect(html).toMatch(/<html/i);
    // Recipient addresses are masked by default.
    for (const i of report.incidents) for (const s of i.samples) expect(s.recipient).toMatch(/^.\*\*\*@/);
  });

  it("takes DNS servers and windows from --config, with flags winning", async () => {
    await rm(join(data, "state", "mx"), { recursive: true, force: true });
    const config = join(data, "..", "bounce-radar.json");
    await writeFile(config, JSON.stringify({ analysis: { dnsServers: [dns.address], windowHours: 48 } }));
    const before = dns.queries.length;
    const r = await run([
      "analyze",
      "--data",
      data,
      "--at",
      "2026-11-15T00:00:00Z",
      "--config",
      config,
      "--json",
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(dns.queries.length).toBeGreaterThan(before);
    expect(ReportSchema.parse(JSON.parse(r.stdout)).window.start).toBe("2026-11-13T00:00:00.000Z");
    const flagged = await run([
      "analyze",
      "--data",
      data,
      "--at",
      "2026-11-15T00:00:00Z",
      "--config",
      config,
      "--window",
      "24h",
      "--json",
    ]);
    expect(ReportSchema.parse(JSON.parse(flagged.stdout)).window.start).toBe("2026-11-14T00:00:00.000Z");
  });

  it("prints a readable summary without --json and rejects bad durations as usage errors", async () => {
    const ok = await run([
      "analyze",
      "--data",
      data,
      "--at",
      "2026-11-15T00:00:00Z",
      "--dns-server",
      dns.address,
    ]);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/window 2026-11-14T00:00:00.000Z – 2026-11-15T00:00:00.000Z: \d+ attempt/);
    const bad = await run(["analyze", "--data", data, "--window", "soon"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--window: expected a duration/);
  });
});
