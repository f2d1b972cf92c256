import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../../../shared/config.ts";
import { NodeBlocklistResolver } from "../../../../shared/dns/blocklist-resolver.ts";
import { GatewayLookup } from "../../../../shared/dns/gateway-lookup.ts";
import type { Report } from "../../../../shared/domain/report/report-schema.ts";
import { runAnalysis } from "../../../../shared/pipeline/analyze/run-analysis.ts";
import { runReputation } from "../../../../shared/pipeline/reputation/run-reputation.ts";
import { generateHistory } from "../../../../shared/simulation/b2b-history.ts";
import { ZoneMxResolver } from "../../../../shared/simulation/zone-mx-resolver.ts";
import { blocklistZonesFor } from "../../../../shared/sources/reputation/blocklist-zones.ts";
import { LocalObjectStore } from "../../../../shared/store/local-object-store.ts";
import { type DnsServer, startDnsServer } from "../../../support/dns-server.ts";
import { storeHistory } from "../../../support/store-history.ts";

const LISTED_IP = "198.51.100.11";
const REVERSED = LISTED_IP.split(".").reverse().join(".");

// The must-show: one sending IP listed in a loopback block-list zone, another zone answering with an
// error code, a third timing out: one listing and two unknown in the report, and the incident cites the listing.
describe("reputation through block lists on a loopback DNS server", () => {
  const start = new Date("2026-10-01T00:00:00.000Z");
  const end = new Date(start.getTime() + 35 * 86_400_000);
  let dns: DnsServer;
  let report: Report;
  let run: Awaited<ReturnType<typeof runReputation>>;

  beforeAll(async () => {
    dns = await startDnsServer({
      [`${REVERSED}.bl.example`]: {
        a: ["127.0.0.2"],
        txt: [`Listed: see https://bl.example/lookup?ip=${LISTED_IP}`],
      },
      [`${REVERSED}.zen.example`]: { a: ["127.255.255.254"] },
      [`${REVERSED}.slow.example`]: { drop: true },
    });
    const config = parseConfig({
      reputation: {
        blocklists: [],
        customBlocklists: [
          { id: "bl-example", zone: "bl.example", targets: "ip" },
          {
            id: "zen-example",
            zone: "zen.example",
            targets: "ip",
            errorCodes: { "127.255.255.254": "query through a public resolver" },
          },
          { id: "slow-example", zone: "slow.example", targets: "ip" },
        ],
        sendingIps: [LISTED_IP],
        lookbackDays: 0,
        dnsServers: [dns.address],
        dnsTimeoutMs: 300,
      },
    });
    const reputation = config.reputation;
    if (!reputation) throw new Error("no reputation config");
    const history = generateHistory({
      seed: 21,
      start,
      days: 35,
      organisations: 80,
      incidents: [{ kind: "ip_blocklisted", at: new Date(end.getTime() - 86_400_000), sendingIp: LISTED_IP }],
    });
    const store = new LocalObjectStore(await mkdtemp(join(tmpdir(), "br-reputation-")));
    await storeHistory(store, history.events, "history-21");
    run = await runReputation(
      {
        zones: blocklistZonesFor(reputation),
        sendingIps: reputation.sendingIps,
        sendingDomains: reputation.sendingDomains,
        lookbackDays: reputation.lookbackDays,
      },
      {
        store,
        resolver: new NodeBlocklistResolver({ servers: reputation.dnsServers, timeoutMs: 300, tries: 1 }),
        now: () => new Date(end.getTime() - 3_600_000),
        log: () => undefined,
      },
    );
    const gateways = new GatewayLookup(new ZoneMxResolver(history.zone), store, { now: () => end });
    await gateways.load();
    report = (
      await runAnalysis(
        { at: end, windowHours: 24, baselineDays: 28, maskRecipients: true },
        { store, gateways, now: () => end, log: () => undefined },
      )
    ).report;
  }, 90_000);
  afterAll(async () => {
    await dns?.stop();
  });

  it("stores one listing with its TXT reason and two unknowns, never a clean", () => {
    expect(run.key).toMatch(/^reputation\/source=dnsbl\/dt=2026-11-04\/run-2026110423\.json$/);
    const byList = Object.fromEntries(run.observations.map((o) => [o.list, o]));
    expect(byList["bl-example"]).toMatchObject({
      status: "listed",
      codes: ["127.0.0.2"],
      reason: `Listed: see https://bl.example/lookup?ip=${LISTED_IP}`,
    });
    expect(byList["zen-example"]).toMatchObject({ status: "unknown", codes: ["127.255.255.254"] });
    expect(byList["zen-example"]?.meaning).toContain("public resolver");
    expect(byList["slow-example"]).toMatchObject({ status: "unknown" });
    expect(byList["slow-example"]?.meaning).toMatch(/^lookup timeout/);
    expect(dns.queries).toContain(`${REVERSED}.slow.example`);
  });

  it("shows one listing and two unknown in the report, and the incident's evidence cites the listing", () => {
    const statuses = report.reputation.map((r) => `${r.list} ${r.status}`).sort();
    expect(statuses).toEqual(["bl-example listed", "slow-example unknown", "zen-example unknown"]);
    const incident = report.incidents.find((i) => i.alert);
    expect(incident?.verdict).toBe("sender_reputation");
    const cited = incident?.evidence.find((e) => e.signal === "reputation");
    expect(cited?.detail).toContain(`${LISTED_IP} listed on bl-example`);
    expect(cited?.detail).toContain("2 check(s) unknown");
  });
});
