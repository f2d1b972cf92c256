import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodeMxResolver, parseDnsServer } from "../../../shared/dns/mx-resolver.ts";
import { type DnsServer, startDnsServer } from "../../support/dns-server.ts";

describe("NodeMxResolver against a loopback DNS server", () => {
  let server: DnsServer;
  let resolver: NodeMxResolver;

  beforeAll(async () => {
    server = await startDnsServer({
      "acme.example": {
        mx: [
          { exchange: "Backup.MX.acme.example.", priority: 20 },
          { exchange: "mx2.acme.example", priority: 10 },
          { exchange: "mx1.acme.example", priority: 10 },
          // The same host twice counts once, at its best preference.
          { exchange: "backup.mx.acme.example", priority: 5 },
        ],
      },
      "nomx.example": {},
      "refused.example": { rcode: "REFUSED" },
      "servfail.example": { rcode: "SERVFAIL" },
      "silent.example": { drop: true },
      "nullmx.example": { mx: [{ exchange: ".", priority: 0 }] },
    });
    resolver = new NodeMxResolver({ servers: [server.address], timeoutMs: 200, tries: 1 });
  });
  afterAll(async () => {
    await server.stop();
  });

  it("returns MX hosts sorted by preference then name, lower-case, without trailing dot or duplicates", async () => {
    await expect(resolver.mx("acme.example")).resolves.toEqual({
      status: "ok",
      hosts: ["backup.mx.acme.example", "mx1.acme.example", "mx2.acme.example"],
    });
    expect(server.queries).toContain("acme.example");
  });

  it("tells a missing name (nxdomain) from a name without MX (nodata)", async () => {
    await expect(resolver.mx("missing.example")).resolves.toEqual({ status: "nxdomain", hosts: [] });
    await expect(resolver.mx("nomx.example")).resolves.toEqual({ status: "nodata", hosts: [] });
  });

  it("reports refused, server failure and silence without throwing", async () => {
    await expect(resolver.mx("refused.example")).resolves.toMatchObject({ status: "refused", hosts: [] });
    const servfail = await resolver.mx("servfail.example");
    expect(servfail).toMatchObject({ status: "error", hosts: [] });
    expect(servfail.detail).toMatch(/ESERVFAIL/);

    const started = Date.now();
    const silent = await resolver.mx("silent.example");
    expect(silent).toMatchObject({ status: "timeout", hosts: [] });
    expect(silent.detail).toMatch(/ETIMEOUT/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("reads a null MX (RFC 7505) as ok with no hosts", async () => {
    const answer = await resolver.mx("nullmx.example");
    expect(answer).toMatchObject({ status: "ok", hosts: [] });
    expect(answer.detail).toMatch(/null MX/);
  });

  it("answers a malformed name with status error", async () => {
    await expect(resolver.mx("bad name..example")).resolves.toMatchObject({ status: "error", hosts: [] });
  });

  it("reports a server that is not listening as a timeout", async () => {
    // Port 1 on loopback: nothing listens, so the UDP query is refused (ECONNREFUSED) or never answered.
    const nobody = new NodeMxResolver({ servers: ["127.0.0.1:1"], timeoutMs: 200, tries: 1 });
    await expect(nobody.mx("acme.example")).resolves.toMatchObject({ status: "timeout", hosts: [] });
  });
});

describe("parseDnsServer", () => {
  it("accepts IPv4 and IPv6 addresses with or without a port", () => {
    expect(parseDnsServer("127.0.0.1:5353")).toBe("127.0.0.1:5353");
    expect(parseDnsServer(" 10.0.0.2 ")).toBe("10.0.0.2");
    expect(parseDnsServer("[::1]:5353")).toBe("[::1]:5353");
    expect(parseDnsServer("[2001:db8::1]")).toBe("2001:db8::1");
    expect(parseDnsServer("2001:db8::53")).toBe("2001:db8::53");
  });

  it("refuses bad values with a message naming the value and the expected form", () => {
    expect(() => parseDnsServer("")).toThrow(/invalid DNS server "": empty.*HOST:PORT/);
    expect(() => parseDnsServer("dns.example:53")).toThrow(/"dns.example" is not an IP address/);
    expect(() => parseDnsServer("127.0.0.1:")).toThrow(/port "" is not a number/);
    expect(() => parseDnsServer("127.0.0.1:99999")).toThrow(/port 99999 is out of range/);
    expect(() => parseDnsServer("127.0.0.1:0")).toThrow(/out of range/);
    expect(() => parseDnsServer("256.1.1.1")).toThrow(/not an IP address/);
    expect(() => parseDnsServer("[10.0.0.1]:53")).toThrow(/not an IPv6 address/);
    expect(() => parseDnsServer("::1:53:zz")).toThrow(/\[ADDR\]:PORT/);
  });

  it("is what NodeMxResolver checks its servers with", () => {
    expect(() => new NodeMxResolver({ servers: ["localhost:53"] })).toThrow(/not an IP address/);
  });
});
