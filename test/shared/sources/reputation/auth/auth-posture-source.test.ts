import { generateKeyPairSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodeTxtResolver, type TxtResolver } from "../../../../../shared/dns/txt-resolver.ts";
import {
  type ReputationSignal,
  ReputationSignalSchema,
} from "../../../../../shared/domain/reputation/reputation-signal.ts";
import { AuthPostureSource } from "../../../../../shared/sources/reputation/auth/auth-posture-source.ts";
import { type DnsServer, startDnsServer } from "../../../../support/dns-server.ts";

const NOW = new Date("2026-03-02T09:30:00Z");

// The loopback server sends one ≤255-byte string per record, so the served key is 1024-bit (a 2048-bit key needs two).
const key1024 = generateKeyPairSync("rsa", { modulusLength: 1024 })
  .publicKey.export({ type: "spki", format: "der" })
  .toString("base64");

function pick(signals: readonly ReputationSignal[], subject: string, metric: string): ReputationSignal {
  const s = signals.find((x) => x.subject === subject && x.metric === metric);
  if (!s) throw new Error(`no ${metric} signal for ${subject}`);
  return s;
}

describe("AuthPostureSource against a loopback DNS server", () => {
  let server: DnsServer;
  let resolver: NodeTxtResolver;

  beforeAll(async () => {
    server = await startDnsServer({
      // Good: SPF through an include, DMARC reject, DKIM s1, MTA-STS.
      "example.com": { txt: ["v=spf1 include:_spf.example.net ~all", "google-site-verification=abc123"] },
      "_spf.example.net": { txt: ["v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.0/24 -all"] },
      "_dmarc.example.com": { txt: ["v=DMARC1; p=reject; rua=mailto:dmarc-reports@example.com"] },
      "s1._domainkey.example.com": { txt: [`v=DKIM1; k=rsa; p=${key1024}`] },
      "_mta-sts.example.com": { txt: ["v=STSv1; id=20260115T120000"] },
      // A subdomain with no DMARC of its own: example.com's record applies.
      "mail.example.com": { txt: ["v=spf1 redirect=_spf.example.net"] },
      // Bad: no DMARC anywhere, the s1 key revoked.
      "example.net": { txt: ["v=spf1 mx -all"] },
      "s1._domainkey.example.net": { txt: ["v=DKIM1; k=rsa; p="] },
      // Nothing answers for this domain.
      "slow.example.org": { drop: true },
      "_dmarc.slow.example.org": { drop: true },
      "s1._domainkey.slow.example.org": { drop: true },
      "_mta-sts.slow.example.org": { drop: true },
      // Only the SPF include is unreachable, and MTA-STS is refused.
      "flaky.example.org": { txt: ["v=spf1 include:_spf.flaky.example.org -all"] },
      "_spf.flaky.example.org": { drop: true },
      "_dmarc.flaky.example.org": { txt: ["v=DMARC1; p=none"] },
      "_mta-sts.flaky.example.org": { rcode: "REFUSED" },
    });
    resolver = new NodeTxtResolver({ servers: [server.address], timeoutMs: 200, tries: 1 });
  });
  afterAll(async () => {
    await server.stop();
  });

  it("emits spf, dmarc, dkim per selector and mta_sts for every domain", async () => {
    const source = new AuthPostureSource({
      domains: ["Example.COM.", "example.net", "mail.example.com", "slow.example.org", "flaky.example.org"],
      dkimSelectors: ["s1"],
      resolver,
    });
    expect(source.id).toBe("auth");
    const signals = await source.collect(NOW);
    for (const s of signals) expect(ReputationSignalSchema.parse(s)).toEqual(s);
    expect(signals).toHaveLength(5 * 4);
    expect(signals.filter((s) => s.subject === "example.com").map((s) => s.metric)).toEqual([
      "spf",
      "dmarc",
      "dkim:s1",
      "mta_sts",
    ]);
    for (const s of signals) {
      expect(s).toMatchObject({
        source: "auth",
        subjectKind: "domain",
        day: null,
        observedAt: NOW.toISOString(),
      });
    }

    // The good domain.
    const spf = pick(signals, "example.com", "spf");
    expect(spf).toMatchObject({ status: "good", value: "~all" });
    expect(spf.detail).toContain("1 of 10 DNS lookups");
    expect(pick(signals, "example.com", "dmarc")).toMatchObject({ status: "good", value: "p=reject" });
    expect(pick(signals, "example.com", "dkim:s1")).toMatchObject({ status: "warning", value: "rsa-1024" });
    expect(pick(signals, "example.com", "mta_sts")).toMatchObject({ status: "good", value: "present" });

    // The subdomain: SPF via redirect=, DMARC from the organisational domain, asked once for both.
    expect(pick(signals, "mail.example.com", "spf")).toMatchObject({ status: "good", value: "-all" });
    const inherited = pick(signals, "mail.example.com", "dmarc");
    expect(inherited).toMatchObject({ status: "good", value: "p=reject" });
    expect(inherited.detail).toContain("inherited from the organisational domain example.com");
    expect(server.queries.filter((q) => q === "_dmarc.example.com")).toHaveLength(1);
    expect(server.queries).toContain("_dmarc.mail.example.com");

    // The bad domain.
    expect(pick(signals, "example.net", "spf")).toMatchObject({ status: "good", value: "-all" });
    expect(pick(signals, "example.net", "dmarc")).toMatchObject({ status: "bad", value: "none" });
    expect(pick(signals, "example.net", "dkim:s1")).toMatchObject({ status: "bad", value: "revoked" });
    expect(pick(signals, "example.net", "mta_sts")).toMatchObject({ status: "good", value: "absent" });

    // Timeouts are unknown, never good or bad.
    for (const metric of ["spf", "dmarc", "dkim:s1", "mta_sts"]) {
      const s = pick(signals, "slow.example.org", metric);
      expect(s).toMatchObject({ status: "unknown", value: null });
      expect(s.detail).toMatch(/failed \(timeout/);
    }
    const flakySpf = pick(signals, "flaky.example.org", "spf");
    expect(flakySpf).toMatchObject({ status: "unknown", value: null });
    expect(flakySpf.detail).toContain("include:_spf.flaky.example.org timeout");
    expect(pick(signals, "flaky.example.org", "dmarc")).toMatchObject({ status: "warning", value: "p=none" });
    expect(pick(signals, "flaky.example.org", "mta_sts")).toMatchObject({ status: "unknown" });
    expect(pick(signals, "flaky.example.org", "mta_sts").detail).toContain("refused");
  });

  it("throws, naming the servers, only when every lookup failed", async () => {
    const nobody = new NodeTxtResolver({ servers: ["127.0.0.1:1"], timeoutMs: 200, tries: 1 });
    const source = new AuthPostureSource({
      domains: ["example.com"],
      dkimSelectors: ["s1"],
      resolver: nobody,
    });
    await expect(source.collect(NOW)).rejects.toThrow(/all 4 DNS lookups failed via 127\.0\.0\.1:1/);

    const allSlow = new AuthPostureSource({ domains: ["slow.example.org"], dkimSelectors: ["s1"], resolver });
    await expect(allSlow.collect(NOW)).rejects.toThrow(new RegExp(`failed via ${server.address}`));
  });

  it("returns nothing for no domains and refuses malformed configuration", async () => {
    await expect(
      new AuthPostureSource({ domains: [], dkimSelectors: [], resolver }).collect(NOW),
    ).resolves.toEqual([]);
    expect(() => new AuthPostureSource({ domains: ["bad domain"], dkimSelectors: [], resolver })).toThrow(
      /invalid domain/,
    );
    expect(
      () => new AuthPostureSource({ domains: ["example.com"], dkimSelectors: ["s1;x"], resolver }),
    ).toThrow(/invalid DKIM selector/);
  });
});

describe("AuthPostureSource SPF tree", () => {
  it("follows nested includes through the resolver and counts lookups over the whole tree", async () => {
    const zone: Record<string, string[]> = {
      "example.com": ["v=spf1 a mx include:_a.example.net include:_b.example.net -all"],
      "_a.example.net": ["v=spf1 include:_c.example.net a mx ~all"],
      "_b.example.net": ["v=spf1 a mx ~all"],
      "_c.example.net": ["v=spf1 a mx -all"],
    };
    const asked: string[] = [];
    const fake: TxtResolver = {
      txt: async (name) => {
        asked.push(name);
        const records = zone[name];
        return records ? { status: "ok", records } : { status: "nxdomain", records: [] };
      },
    };
    const source = new AuthPostureSource({ domains: ["example.com"], dkimSelectors: [], resolver: fake });
    const [spf] = await source.collect(NOW);
    // a, mx (2) + include:_a (1) + _a's include, a, mx (3) + _c's a, mx (2) + include:_b (1) + _b's a, mx (2) = 11.
    expect(spf).toMatchObject({ metric: "spf", status: "bad", value: "permerror" });
    expect(asked).toEqual(expect.arrayContaining(["_a.example.net", "_b.example.net", "_c.example.net"]));

    zone["_b.example.net"] = ["v=spf1 a ~all"];
    const [ten] = await source.collect(NOW);
    expect(ten).toMatchObject({ status: "good", value: "-all" });
    expect(ten?.detail).toContain("10 of 10 DNS lookups");
  });
});
