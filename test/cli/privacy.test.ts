import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_END } from "../../cli/commands/demo.ts";
import { ReportSchema } from "../../shared/domain/report/report-schema.ts";
import { generateHistory } from "../../shared/simulation/b2b-history.ts";
import { type DnsServer, startDnsServer } from "../support/dns-server.ts";
import { type CliResult, runCli } from "../support/run-cli.ts";

const DAY = 86_400_000;
/**
 * Seed 1 puts the demo's incident behind Proofpoint, whose replies quote the address
 * (`550 5.1.1 <anna@…>: Recipient address rejected`); the default seed's Mimecast replies do not.
 */
const SEED = 1;
const DEMO = { days: 42, organisations: 250 };
/** Anything shaped like an address, as it may sit in JSON, HTML, NDJSON or a reply text. */
const ADDRESS_TOKEN = /[^\s<>"'(),;:[\]\\]+@[a-z0-9.-]+\.[a-z]{2,}/gi;

async function readTree(root: string): Promise<Map<string, string>> {
  const texts = new Map<string, string>();
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const bytes = await readFile(path);
    texts.set(path, (path.endsWith(".gz") ? gunzipSync(bytes) : bytes).toString("utf8"));
  }
  return texts;
}

// The privacy must-show: after the demo and an analyze, no full recipient address anywhere under
// reports/ or in state/alerts.json; `suppressions --reveal` still lists them; the report's count of wrongly
// suppressed addresses is the number suppressions lists.
describe("privacy: a demo-sized run writes no full recipient address", () => {
  let data: string;
  let dns: DnsServer;
  let recipients: Set<string>;
  let demo: CliResult;
  let analyze: CliResult;
  let incidentId: string;

  beforeAll(async () => {
    // The demo's own world, for its recipient addresses and its DNS zone (the demo's MX cache has expired
    // by the real clock, so analyze asks DNS again).
    const history = generateHistory({
      seed: SEED,
      start: new Date(DEMO_END.getTime() - DEMO.days * DAY),
      days: DEMO.days,
      organisations: DEMO.organisations,
      incidents: [{ kind: "gateway_user_unknown_one_org", at: new Date(DEMO_END.getTime() - DAY) }],
    });
    recipients = new Set(history.events.map((e) => e.recipient.toLowerCase()));
    dns = await startDnsServer(history.zone);
    data = join(await mkdtemp(join(tmpdir(), "br-privacy-")), "data");
    demo = await runCli(["demo", "--data", data, "--seed", String(SEED)]);
    expect(demo.status, demo.stderr).toBe(0);
    incidentId = /--incident (inc-[0-9a-f]+)$/m.exec(demo.stdout)?.[1] ?? "";
    analyze = await runCli([
      "analyze",
      "--data",
      data,
      "--at",
      DEMO_END.toISOString(),
      "--dns-server",
      dns.address,
    ]);
    expect(analyze.status, analyze.stderr).toBe(0);
  }, 180_000);

  afterAll(async () => {
    await dns?.stop();
  });

  it("leaves no full address under reports/ or in state/alerts.json, reply texts included", async () => {
    const texts = await readTree(join(data, "reports"));
    const alerts = join(data, "state", "alerts.json");
    texts.set(alerts, await readFile(alerts, "utf8"));
    // Everything the run writes for people: both reports, latest.*, the incident log, the alert state.
    const names = [...texts.keys()].map((p) => p.slice(data.length + 1));
    for (const name of ["report.json", "report.html", "latest.json", "latest.html", ".ndjson", "alerts.json"])
      expect(names.some((n) => n.endsWith(name))).toBe(true);
    const leaks: string[] = [];
    for (const [path, text] of texts) {
      for (const token of text.match(ADDRESS_TOKEN) ?? []) {
        if (recipients.has(token.toLowerCase())) leaks.push(`${path.slice(data.length + 1)}: ${token}`);
      }
    }
    expect(leaks).toEqual([]);
    // Proofpoint's replies are there, quoting the addresses masked: the scan looked at reply texts.
    const report = texts.get(join(data, "reports", "latest.json")) ?? "";
    expect(report).toMatch(/550 5\.1\.1 <[^<>\s@]\*\*\*@[^<>\s]+>: Recipient address rejected/);
    expect(texts.get(alerts)).toMatch(/<[^<>\s@]\*\*\*@[^<>\s]+>: Recipient address rejected/);
    // And nothing printed on the way either.
    for (const out of [demo.stdout, demo.stderr, analyze.stdout, analyze.stderr])
      for (const token of out.match(ADDRESS_TOKEN) ?? [])
        expect(recipients.has(token.toLowerCase())).toBe(false);
  });

  it("still lists the full addresses with suppressions --reveal, as many as the report and the alert count", async () => {
    const r = await runCli(["suppressions", "--data", data, "--incident", incidentId, "--reveal", "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const listed = JSON.parse(r.stdout) as { report: string; reactivate: Array<{ address: string }> };
    const addresses = listed.reactivate.map((c) => c.address);
    expect(addresses.length).toBeGreaterThan(10);
    for (const a of addresses) expect(recipients.has(a)).toBe(true);

    const report = ReportSchema.parse(JSON.parse(await readFile(join(data, listed.report), "utf8")));
    const incident = report.incidents.find((i) => i.id === incidentId);
    // Masked, several addresses share a form (a***@…); each is still its own entry.
    expect(incident?.wronglySuppressed).toHaveLength(addresses.length);
    expect(new Set(incident?.wronglySuppressed).size).toBeLessThan(addresses.length);
    // The alert email printed by the demo says the same number.
    expect(demo.stdout).toContain(`${addresses.length} addresses look wrongly suppressed`);
  });
});
