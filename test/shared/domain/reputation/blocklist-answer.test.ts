import { describe, expect, it } from "vitest";
import {
  type BlocklistZone,
  blocklistQueryName,
  defaultBlocklistZones,
  readListing,
} from "../../../../shared/domain/reputation/blocklist-answer.ts";

function zone(id: string, key?: string): BlocklistZone {
  const z = defaultBlocklistZones(key).find((x) => x.id === id);
  if (!z) throw new Error(`no built-in list ${id}`);
  return z;
}
const zen = zone("spamhaus-zen");
const dbl = zone("spamhaus-dbl");
const barracuda = zone("barracuda");

describe("blocklistQueryName", () => {
  it("reverses IPv4 octets and IPv6 nibbles, and prepends domains", () => {
    expect(blocklistQueryName(zen, "203.0.113.79")).toBe("79.113.0.203.zen.spamhaus.org");
    expect(blocklistQueryName(zen, "2001:db8:7ca6:22::45")).toBe(
      "5.4.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.2.0.0.6.a.c.7.8.b.d.0.1.0.0.2.zen.spamhaus.org",
    );
    expect(blocklistQueryName(dbl, "Example.com.")).toBe("example.com.dbl.spamhaus.org");
  });

  it("asks about an address written with an IPv4 tail in its canonical form", () => {
    // ::ffff:a.b.c.d is the IPv4 host: asked as such, on IPv4-only lists too.
    expect(blocklistQueryName(zen, "::ffff:192.0.2.1")).toBe("1.2.0.192.zen.spamhaus.org");
    expect(blocklistQueryName(barracuda, "::ffff:192.0.2.1")).toBe("1.2.0.192.b.barracudacentral.org");
    // Any other embedded IPv4 is an IPv6 address: its 32 nibbles, reversed.
    expect(blocklistQueryName(zen, "2001:db8::192.0.2.1")).toBe(
      "1.0.2.0.0.0.0.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zen.spamhaus.org",
    );
    expect(blocklistQueryName(dbl, "::ffff:192.0.2.1")).toBeNull();
  });

  it("does not ask a list what it cannot answer", () => {
    expect(blocklistQueryName(barracuda, "2001:db8::1")).toBeNull();
    expect(blocklistQueryName(dbl, "203.0.113.79")).toBeNull();
    expect(blocklistQueryName(zen, "example.com")).toBeNull();
  });

  it("uses Spamhaus's DQS zones when a key is given", () => {
    const dqsZen = zone("spamhaus-zen", "abcdefghijklmnopqrstuvwxyz");
    expect(blocklistQueryName(dqsZen, "203.0.113.79")).toBe(
      "79.113.0.203.abcdefghijklmnopqrstuvwxyz.zen.dq.spamhaus.net",
    );
  });
});

describe("readListing", () => {
  it("reads NXDOMAIN as clean and a listing code with its meaning", () => {
    expect(readListing(zen, { status: "nxdomain", addresses: [] }).status).toBe("clean");
    const v = readListing(zen, { status: "ok", addresses: ["127.0.0.10", "127.0.0.3"] });
    expect(v).toEqual({
      status: "listed",
      codes: ["127.0.0.10", "127.0.0.3"],
      meaning:
        "127.0.0.10: PBL: ISP-maintained policy (dynamic or non-MTA range); 127.0.0.3: CSS: snowshoe spam detection",
    });
  });

  it("never reads Spamhaus's error answers, refusals or timeouts as listed or clean", () => {
    const publicResolver = readListing(zen, { status: "ok", addresses: ["127.255.255.254"] });
    expect(publicResolver.status).toBe("unknown");
    expect(publicResolver.meaning).toContain("public or unattributable resolver");
    expect(readListing(dbl, { status: "ok", addresses: ["127.0.1.255"] }).status).toBe("unknown");
    expect(readListing(zen, { status: "refused", addresses: [] }).status).toBe("unknown");
    expect(readListing(zen, { status: "timeout", addresses: [], detail: "ETIMEOUT" }).meaning).toBe(
      "lookup timeout: ETIMEOUT",
    );
    // An answer outside 127/8 is a hijacked or wildcarded zone, not a listing.
    expect(readListing(barracuda, { status: "ok", addresses: ["198.51.100.1"] }).status).toBe("unknown");
  });
});

describe("return-code tables", () => {
  const spamcop = zone("spamcop");

  it("reads a code outside a list's documented table as unknown, with the reason, never as listed", () => {
    // DBL answering 127.0.0.1, as in a real resolver log (analogic/mailserver issue 1003): an open resolver or
    // a malformed query, not a listing.
    const dbl1 = readListing(dbl, { status: "ok", addresses: ["127.0.0.1"] });
    expect(dbl1.status).toBe("unknown");
    expect(dbl1.meaning).toMatch(/open or public resolver or was malformed/);
    // A DBL code to an IP query on ZEN.
    const zenDbl = readListing(zen, { status: "ok", addresses: ["127.0.1.2"] });
    expect(zenDbl.status).toBe("unknown");
    expect(zenDbl.meaning).toMatch(/^127\.0\.1\.2: not a code spamhaus-zen documents/);
    expect(readListing(barracuda, { status: "ok", addresses: ["127.0.0.3"] }).status).toBe("unknown");
    expect(readListing(spamcop, { status: "ok", addresses: ["127.0.0.1"] }).status).toBe("unknown");
    // Spamhaus documents 127.0.0.5-.8 as currently unused.
    const unused = readListing(zen, { status: "ok", addresses: ["127.0.0.6"] });
    expect(unused).toMatchObject({ status: "unknown" });
    expect(unused.meaning).toMatch(/currently unused/);
  });

  it("gives every documented code its meaning", () => {
    const bcl = readListing(zen, { status: "ok", addresses: ["127.0.0.30"] });
    expect(bcl).toEqual({
      status: "listed",
      codes: ["127.0.0.30"],
      meaning: "127.0.0.30: BCL: botnet controller (Spamhaus Botnet Controller List)",
    });
    for (const z of defaultBlocklistZones()) {
      for (const [code, meaning] of Object.entries(z.codes)) {
        expect(meaning).not.toMatch(/^code /);
        expect(readListing(z, { status: "ok", addresses: [code] })).toEqual({
          status: "listed",
          codes: [code],
          meaning: `${code}: ${meaning}`,
        });
      }
      for (const code of Object.keys(z.errorCodes)) {
        expect(readListing(z, { status: "ok", addresses: [code] }).status).toBe("unknown");
      }
    }
  });

  it("lists on the documented codes of a mixed answer and says which it did not count", () => {
    const v = readListing(zen, { status: "ok", addresses: ["127.0.0.2", "127.0.1.2"] });
    expect(v.status).toBe("listed");
    expect(v.meaning).toMatch(/^127\.0\.0\.2: SBL: .*; not counted: 127\.0\.1\.2: not a code/);
  });
});
