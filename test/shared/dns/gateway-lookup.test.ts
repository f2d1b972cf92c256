import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { GatewayLookup, type GatewayLookupOptions } from "../../../shared/dns/gateway-lookup.ts";
import { type MxAnswer, type MxResolver, NodeMxResolver } from "../../../shared/dns/mx-resolver.ts";
import { keys } from "../../../shared/store/keys.ts";
import { LocalObjectStore } from "../../../shared/store/local-object-store.ts";
import { type DnsServer, startDnsServer, type ZoneEntry } from "../../support/dns-server.ts";

const T0 = new Date("2026-11-20T10:00:00.000Z");
const HOUR = 3_600_000;

function zone(): Record<string, ZoneEntry> {
  return {
    "acme.example": { mx: [{ exchange: "mx0a-00123401.pphosted.com", priority: 10 }] },
    "contoso.example": { mx: [{ exchange: "contoso-example.mail.protection.outlook.com", priority: 0 }] },
    "selfhosted.example": {
      mx: [
        { exchange: "mx2.selfhosted.example", priority: 20 },
        { exchange: "mx1.selfhosted.example", priority: 10 },
      ],
    },
    // Exists, no MX of its own: mail for it is filtered wherever its organisation's is.
    "mail.acme.example": {},
    "nomx.example": {},
    "refused.example": { rcode: "REFUSED" },
    "silent.example": { drop: true },
    "nullmx.example": { mx: [{ exchange: ".", priority: 0 }] },
  };
}

const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});
async function freshStore(): Promise<LocalObjectStore> {
  const root = await mkdtemp(join(tmpdir(), "gateway-lookup-"));
  roots.push(root);
  return new LocalObjectStore(root);
}

describe("GatewayLookup", () => {
  let server: DnsServer;
  let records: Record<string, ZoneEntry>;
  let clock: Date;
  let warnings: string[];

  beforeEach(async () => {
    records = zone();
    server = await startDnsServer(records);
    clock = T0;
    warnings = [];
  });
  afterEach(async () => {
    await server.stop();
  });

  function lookup(store: LocalObjectStore | null = null, options: Partial<GatewayLookupOptions> = {}) {
    // A fresh resolver each time: nothing it might remember can stand in for the lookup's own cache.
    const resolver = new NodeMxResolver({ servers: [server.address], timeoutMs: 200, tries: 1 });
    return new GatewayLookup(resolver, store, {
      now: () => clock,
      onWarning: (m) => warnings.push(m),
      ...options,
    });
  }

  it("takes a recognised MX host from the ESP without asking DNS", async () => {
    const result = await lookup().gatewayOf("acme.example", "MX0B-00123401.pphosted.com.");
    expect(result).toEqual({ gateway: "proofpoint", mxHosts: ["mx0b-00123401.pphosted.com"], source: "esp" });
    expect(server.queries).toEqual([]);
  });

  it("asks DNS when the ESP's MX host names no known gateway", async () => {
    const result = await lookup().gatewayOf("contoso.example", "relay.some-isp.example");
    expect(result).toEqual({
      gateway: "microsoft365",
      mxHosts: ["contoso-example.mail.protection.outlook.com"],
      source: "dns",
    });
    expect(server.queries).toEqual(["contoso.example"]);
  });

  it("recognises gateways from the domain's MX records", async () => {
    const gateways = lookup();
    await expect(gateways.gatewayOf("ACME.example.")).resolves.toEqual({
      gateway: "proofpoint",
      mxHosts: ["mx0a-00123401.pphosted.com"],
      source: "dns",
    });
    await expect(gateways.gatewayOf("contoso.example", null)).resolves.toMatchObject({
      gateway: "microsoft365",
    });
  });

  it("calls an MX that belongs to no known gateway self-hosted", async () => {
    await expect(lookup().gatewayOf("selfhosted.example")).resolves.toEqual({
      gateway: "self_hosted",
      mxHosts: ["mx1.selfhosted.example", "mx2.selfhosted.example"],
      source: "dns",
    });
  });

  it("falls back to the organisation's MX for a subdomain without MX (nodata or nxdomain)", async () => {
    const gateways = lookup();
    await expect(gateways.gatewayOf("mail.acme.example")).resolves.toMatchObject({
      gateway: "proofpoint",
      mxHosts: ["mx0a-00123401.pphosted.com"],
    });
    await expect(gateways.gatewayOf("eu.ghost.acme.example")).resolves.toMatchObject({
      gateway: "proofpoint",
    });
    // acme.example was asked once and then served from the cache.
    expect(server.queries).toEqual(["mail.acme.example", "acme.example", "eu.ghost.acme.example"]);
  });

  it("answers unknown when the lookup fails or finds no MX, and never throws", async () => {
    const gateways = lookup();
    for (const domain of [
      "refused.example",
      "silent.example",
      "missing.example",
      "nomx.example",
      "nullmx.example",
      "not a domain",
      "",
    ]) {
      await expect(gateways.gatewayOf(domain), domain).resolves.toMatchObject({
        gateway: "unknown",
        mxHosts: [],
      });
    }
    // Malformed names never reach the wire.
    expect(server.queries).not.toContain("not a domain");
    expect(server.queries).not.toContain("");
  });

  it("turns a resolver that throws (against its contract) into unknown", async () => {
    const throwing: MxResolver = {
      mx: () => Promise.reject(new Error("boom")),
    };
    const gateways = new GatewayLookup(throwing, null, { now: () => clock });
    await expect(gateways.gatewayOf("acme.example")).resolves.toMatchObject({ gateway: "unknown" });
  });

  it("serves a second lookup from the cache without a second query", async () => {
    const gateways = lookup();
    await expect(gateways.gatewayOf("acme.example")).resolves.toMatchObject({ source: "dns" });
    await expect(gateways.gatewayOf("acme.example")).resolves.toMatchObject({
      gateway: "proofpoint",
      source: "cache",
    });
    // Failures are cached too (for their shorter TTL), so a dead domain is not asked once per event.
    await gateways.gatewayOf("silent.example");
    await expect(gateways.gatewayOf("silent.example")).resolves.toMatchObject({
      gateway: "unknown",
      source: "cache",
    });
    expect(server.queries).toEqual(["acme.example", "silent.example"]);
  });

  it("shares one query among concurrent lookups of the same domain", async () => {
    const gateways = lookup();
    const results = await Promise.all(Array.from({ length: 5 }, () => gateways.gatewayOf("acme.example")));
    expect(results.map((r) => r.gateway)).toEqual(Array(5).fill("proofpoint"));
    expect(server.queries).toEqual(["acme.example"]);
  });

  it("persists the cache in the store and a new lookup reuses it", async () => {
    const store = await freshStore();
    const first = lookup(store);
    await first.load();
    await first.gatewayOf("acme.example");
    await first.gatewayOf("mail.acme.example");
    await first.save();

    const file = JSON.parse(await readFile(join(store.location, ...keys.mxCache().split("/")), "utf8"));
    expect(file).toEqual({
      version: 1,
      entries: {
        "acme.example": {
          status: "ok",
          hosts: ["mx0a-00123401.pphosted.com"],
          expiresAt: new Date(T0.getTime() + 24 * HOUR).toISOString(),
        },
        "mail.acme.example": {
          status: "nodata",
          hosts: [],
          expiresAt: new Date(T0.getTime() + 24 * HOUR).toISOString(),
        },
      },
    });

    const asked = server.queries.length;
    const second = lookup(store);
    await second.load();
    await expect(second.gatewayOf("mail.acme.example")).resolves.toEqual({
      gateway: "proofpoint",
      mxHosts: ["mx0a-00123401.pphosted.com"],
      source: "cache",
    });
    expect(server.queries.length).toBe(asked);
  });

  it("writes the cache only when it changed", async () => {
    const store = await freshStore();
    const gateways = lookup(store);
    await gateways.save();
    await expect(store.get(keys.mxCache())).resolves.toBeNull();

    await gateways.gatewayOf("acme.example");
    await gateways.save();
    await store.delete(keys.mxCache());
    // Served from the cache: nothing new to write.
    await gateways.gatewayOf("acme.example");
    await gateways.save();
    await expect(store.get(keys.mxCache())).resolves.toBeNull();
  });

  it("asks again once an entry has expired: 24 h for answers, 1 h for failures", async () => {
    const gateways = lookup();
    await gateways.gatewayOf("acme.example");
    await gateways.gatewayOf("refused.example");

    clock = new Date(T0.getTime() + 30 * 60_000);
    await gateways.gatewayOf("acme.example");
    await gateways.gatewayOf("refused.example");
    expect(server.queries).toEqual(["acme.example", "refused.example"]);

    clock = new Date(T0.getTime() + 2 * HOUR);
    await gateways.gatewayOf("acme.example");
    await expect(gateways.gatewayOf("refused.example")).resolves.toMatchObject({ source: "dns" });
    expect(server.queries).toEqual(["acme.example", "refused.example", "refused.example"]);

    // The domain moved to Mimecast since: the re-query sees it.
    records["acme.example"] = { mx: [{ exchange: "eu-smtp-inbound-1.mimecast.com", priority: 10 }] };
    clock = new Date(T0.getTime() + 25 * HOUR);
    await expect(gateways.gatewayOf("acme.example")).resolves.toMatchObject({
      gateway: "mimecast",
      source: "dns",
    });
  });

  it("honours configured TTLs and drops expired entries from the saved file", async () => {
    const store = await freshStore();
    const gateways = lookup(store, { ttlHours: 2, failureTtlHours: 0.5 });
    await gateways.gatewayOf("acme.example");
    await gateways.gatewayOf("refused.example");
    clock = new Date(T0.getTime() + HOUR);
    await gateways.gatewayOf("contoso.example");
    await gateways.save();

    const file = JSON.parse(new TextDecoder().decode((await store.get(keys.mxCache())) ?? new Uint8Array()));
    expect(Object.keys(file.entries)).toEqual(["acme.example", "contoso.example"]);
    expect(file.entries["acme.example"].expiresAt).toBe(new Date(T0.getTime() + 2 * HOUR).toISOString());
  });

  it("keeps the last real answer when DNS fails at re-query time, and retries after the failure TTL", async () => {
    const gateways = lookup();
    await gateways.gatewayOf("acme.example");
    records["acme.example"] = { drop: true };

    clock = new Date(T0.getTime() + 25 * HOUR);
    await expect(gateways.gatewayOf("acme.example")).resolves.toEqual({
      gateway: "proofpoint",
      mxHosts: ["mx0a-00123401.pphosted.com"],
      source: "cache",
    });
    expect(server.queries).toEqual(["acme.example", "acme.example"]);

    clock = new Date(T0.getTime() + 25.5 * HOUR);
    await gateways.gatewayOf("acme.example");
    expect(server.queries).toHaveLength(2);
    clock = new Date(T0.getTime() + 26.5 * HOUR);
    await gateways.gatewayOf("acme.example");
    expect(server.queries).toHaveLength(3);
  });

  it.each([
    ["not JSON", "{not json", /not JSON/],
    [
      "the wrong shape",
      JSON.stringify({ version: 1, entries: { "acme.example": { status: "ok" } } }),
      /hosts/,
    ],
    ["another version", JSON.stringify({ version: 2, entries: {} }), /version/],
  ])("discards a cache file that is %s, with a warning, and rewrites it", async (_what, content, why) => {
    const store = await freshStore();
    const path = join(store.location, ...keys.mxCache().split("/"));
    await store.put(keys.mxCache(), "{}");
    await writeFile(path, content);

    const gateways = lookup(store);
    await gateways.load();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/MX cache state\/mx\/cache\.json .* corrupt and was discarded/);
    expect(warnings[0]).toMatch(why);
    await expect(gateways.gatewayOf("acme.example")).resolves.toMatchObject({
      gateway: "proofpoint",
      source: "dns",
    });

    await gateways.save();
    const rewritten = JSON.parse(await readFile(path, "utf8"));
    expect(Object.keys(rewritten.entries)).toEqual(["acme.example"]);
  });

  it("quotes a corrupt file's bytes only made inert: no escape code or bidi override reaches the warning", async () => {
    const store = await freshStore();
    await store.put(keys.mxCache(), "\u001b[2J\u001b]0;pwned\u0007\u009b31m\u202e{not json");
    const gateways = lookup(store);
    await gateways.load();
    expect(warnings).toHaveLength(1);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the point
    expect(warnings[0]).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    expect(warnings[0]).toMatch(/corrupt and was discarded: not JSON \(.*\\x1b/);
  });

  it("works without a store", async () => {
    const gateways = lookup(null);
    await gateways.load();
    await expect(gateways.gatewayOf("acme.example")).resolves.toMatchObject({ gateway: "proofpoint" });
    await gateways.save();
  });

  it("looks up many domains, keyed as given, in input order", async () => {
    const gateways = lookup();
    const result = await gateways.gatewaysOf(
      ["contoso.example", "acme.example", "missing.example", "acme.example", "selfhosted.example"],
      { concurrency: 2 },
    );
    expect([...result].map(([domain, r]) => [domain, r.gateway])).toEqual([
      ["contoso.example", "microsoft365"],
      ["acme.example", "proofpoint"],
      ["missing.example", "unknown"],
      ["selfhosted.example", "self_hosted"],
    ]);
    await expect(gateways.gatewaysOf([])).resolves.toEqual(new Map());
  });
});

describe("GatewayLookup concurrency limits", () => {
  /** A resolver that records how many queries it has in flight at once. */
  function countingResolver(): MxResolver & { peak: number; calls: number } {
    let inFlight = 0;
    const r = {
      peak: 0,
      calls: 0,
      async mx(domain: string): Promise<MxAnswer> {
        r.calls++;
        inFlight++;
        r.peak = Math.max(r.peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight--;
        return { status: "ok", hosts: [`mx.${domain}`] };
      },
    };
    return r;
  }
  const domains = Array.from({ length: 40 }, (_, i) => `org${i}.example`);

  it("gatewaysOf keeps at most `concurrency` lookups running", async () => {
    const resolver = countingResolver();
    const result = await new GatewayLookup(resolver, null, { now: () => T0 }).gatewaysOf(domains, {
      concurrency: 3,
    });
    expect(result.size).toBe(40);
    expect(resolver.calls).toBe(40);
    expect(resolver.peak).toBe(3);
  });

  it("bounds DNS queries in flight even when callers start every lookup at once", async () => {
    const resolver = countingResolver();
    const gateways = new GatewayLookup(resolver, null, { now: () => T0, maxConcurrentQueries: 4 });
    const results = await Promise.all(domains.map((d) => gateways.gatewayOf(d)));
    expect(results.every((r) => r.gateway === "self_hosted")).toBe(true);
    expect(resolver.calls).toBe(40);
    expect(resolver.peak).toBe(4);
  });
});
