import { createSocket } from "node:dgram";
import type { AddressInfo } from "node:net";
import dnsPacket from "dns-packet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NodeTxtResolver } from "../../../shared/dns/txt-resolver.ts";
import { type DnsServer, startDnsServer } from "../../support/dns-server.ts";

describe("NodeTxtResolver against a loopback DNS server", () => {
  let server: DnsServer;
  let resolver: NodeTxtResolver;

  beforeAll(async () => {
    server = await startDnsServer({
      "example.com": { txt: ["v=spf1 include:_spf.example.net ~all", "google-site-verification=abc123"] },
      "_dmarc.example.com": { txt: ["v=DMARC1; p=reject"] },
      "notxt.example.com": { a: ["192.0.2.1"] },
      "refused.example.com": { rcode: "REFUSED" },
      "servfail.example.com": { rcode: "SERVFAIL" },
      "silent.example.com": { drop: true },
    });
    resolver = new NodeTxtResolver({ servers: [server.address], timeoutMs: 200, tries: 1 });
  });
  afterAll(async () => {
    await server.stop();
  });

  it("returns every TXT record at the name", async () => {
    const answer = await resolver.txt("example.com");
    expect(answer.status).toBe("ok");
    expect([...answer.records].sort()).toEqual([
      "google-site-verification=abc123",
      "v=spf1 include:_spf.example.net ~all",
    ]);
    await expect(resolver.txt("_dmarc.example.com")).resolves.toEqual({
      status: "ok",
      records: ["v=DMARC1; p=reject"],
    });
  });

  it("tells a missing name (nxdomain) from a name without TXT (nodata)", async () => {
    await expect(resolver.txt("missing.example.com")).resolves.toEqual({ status: "nxdomain", records: [] });
    await expect(resolver.txt("notxt.example.com")).resolves.toEqual({ status: "nodata", records: [] });
  });

  it("reports refused, server failure and silence without throwing", async () => {
    await expect(resolver.txt("refused.example.com")).resolves.toMatchObject({
      status: "refused",
      records: [],
    });
    const servfail = await resolver.txt("servfail.example.com");
    expect(servfail).toMatchObject({ status: "error", records: [] });
    expect(servfail.detail).toMatch(/ESERVFAIL/);
    const silent = await resolver.txt("silent.example.com");
    expect(silent).toMatchObject({ status: "timeout", records: [] });
    expect(silent.detail).toMatch(/ETIMEOUT/);
  });

  it("names the servers it asks", () => {
    expect(resolver.servers).toEqual([server.address]);
  });

  it("rejects an invalid server or timeout up front", () => {
    expect(() => new NodeTxtResolver({ servers: ["dns.example.com"] })).toThrow(/invalid DNS server/);
    expect(() => new NodeTxtResolver({ timeoutMs: 0 })).toThrow(/invalid DNS timeout/);
  });
});

describe("NodeTxtResolver with a record split into character-strings", () => {
  // startDnsServer sends one string per TXT record; a 2048-bit DKIM key needs several (each ≤ 255 bytes).
  const chunks = ["v=DKIM1; k=rsa; p=", "A".repeat(255), "B".repeat(100)];
  const socket = createSocket("udp4");

  beforeAll(async () => {
    socket.on("message", (message, from) => {
      const query = dnsPacket.decode(message);
      const question = query.questions?.[0];
      if (!question) return;
      const response = dnsPacket.encode({
        type: "response",
        id: query.id ?? 0,
        flags: dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
        questions: [question],
        answers: [{ type: "TXT", name: question.name, ttl: 0, data: chunks }],
      });
      socket.send(response, from.port, from.address);
    });
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  });

  it("joins the strings of one record into one value", async () => {
    const { port } = socket.address() as AddressInfo;
    const resolver = new NodeTxtResolver({ servers: [`127.0.0.1:${port}`], timeoutMs: 500, tries: 1 });
    await expect(resolver.txt("s1._domainkey.example.com")).resolves.toEqual({
      status: "ok",
      records: [chunks.join("")],
    });
  });
});
