import { describe, expect, it } from "vitest";
import {
  canonicalIp,
  ipOrNull,
  mapStrings,
  maskAddress,
  maskAddresses,
  redactSecrets,
  safeJson,
  safeLine,
  safeText,
} from "../../../../shared/domain/text/safe-text.ts";

/** What a hostile reply text can carry: SGR and OSC escapes, BEL, C1 CSI, bidi overrides and isolates. */
const HOSTILE =
  "550 5.1.1 \u001b[31mUser unknown\u001b[0m \u001b]0;pwned\u0007 \u009b2J \u202egnp.exe\u202c \u2066a\u2067b\u2068c\u2069";
/** Anything a terminal, a mail client or a phone acts on or reorders. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the point
const LIVE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

describe("maskAddresses / redactSecrets", () => {
  it("masks any local@domain, keeps masked ones, and leaves non-addresses alone", () => {
    expect(maskAddresses("to John.Doe+x@Acme.co.uk and j***@acme.com")).toBe(
      "to J***@Acme.co.uk and j***@acme.com",
    );
    expect(maskAddresses("émile@société.fr")).toBe("é***@société.fr");
    expect(maskAddresses("s3://bucket/key 550 5.1.1")).toBe("s3://bucket/key 550 5.1.1");
    expect(maskAddress("𝒜lice@acme.com")).toBe("𝒜***@acme.com");
  });

  it("masks addresses inside reply texts and URL-encoded ones in ESP API paths", () => {
    expect(maskAddresses("550 5.1.1 <annab@acme.com>: Recipient address rejected")).toBe(
      "550 5.1.1 <a***@acme.com>: Recipient address rejected",
    );
    expect(
      maskAddresses("HTTP 500 for https://api.mailgun.net/v3/mg.example.com/bounces/anna.b%2Bx%40acme.com"),
    ).toBe("HTTP 500 for https://api.mailgun.net/v3/mg.example.com/bounces/a***%40acme.com");
    expect(maskAddresses("/suppression/bounces/%41nna%40acme.com")).toBe(
      "/suppression/bounces/%41***%40acme.com",
    );
    expect(maskAddresses("a***%40acme.com")).toBe("a***%40acme.com");
  });

  it("redacts credential-shaped strings but keeps report paths and gateway reference ids", () => {
    expect(redactSecrets("X-Amz-Signature=abcdef123&X-Amz-Credential=AKID/x")).toBe(
      "X-Amz-Signature=[redacted]&X-Amz-Credential=[redacted]",
    );
    expect(redactSecrets("Authorization: Bearer eyJhbGciOi.J9x")).not.toContain("eyJhbGciOi");
    const ref = "550 Envelope rejected [kQ7mZ2bVn0a9LcXwR4tHsg.uk52]";
    expect(redactSecrets(ref)).toBe(ref);
    const path = "s3://bounce-radar-reports/Runs/2025/06/13/RunAbc123def456ghi789/report.json";
    expect(redactSecrets(path, { opaque: false })).toBe(path);
  });

  it("mapStrings reaches every string of a nested value and keeps the shape", () => {
    const value = { a: ["x@acme.com", 3, null], b: { c: "y@acme.com", d: true } };
    expect(mapStrings(value, maskAddresses)).toEqual({
      a: ["x***@acme.com", 3, null],
      b: { c: "y***@acme.com", d: true },
    });
    expect(value.a[0]).toBe("x@acme.com");
  });
});

describe("safeLine / safeText / safeJson", () => {
  it("shows escapes, C1 controls and bidi controls as visible escapes on one line", () => {
    const line = safeLine(`${HOSTILE}\r\nsecond line`);
    expect(line).not.toMatch(LIVE);
    expect(line).toBe(
      "550 5.1.1 \\x1b[31mUser unknown\\x1b[0m \\x1b]0;pwned\\x07 \\x9b2J \\u202egnp.exe\\u202c \\u2066a\\u2067b\\u2068c\\u2069 second line",
    );
    expect(safeLine("a\u2028b\u0085c\td")).toBe("a b c d");
  });

  it("keeps the lines of a block but not a lone carriage return, nor an unpaired surrogate", () => {
    expect(safeText("one\r\ntwo\n\tthree\rfake \ud800")).toBe("one\ntwo\n\tthree\\x0dfake \\ud800");
    expect(safeText(HOSTILE)).not.toMatch(LIVE);
    expect(safeText("plain ünïcödé 😀 text")).toBe("plain ünïcödé 😀 text");
  });

  it("writes JSON with no live character that still parses back to the same text", () => {
    const value = { text: HOSTILE };
    const json = safeJson(value, 2);
    expect(json).not.toMatch(LIVE);
    expect(JSON.parse(json)).toEqual(value);
  });
});

describe("ipOrNull", () => {
  it("keeps IPv4 and IPv6 addresses and refuses anything else", () => {
    expect(ipOrNull("198.51.100.7")).toBe("198.51.100.7");
    expect(ipOrNull(" 2001:db8::1 ")).toBe("2001:db8::1");
    for (const bad of [
      "\u001b[31m198.51.100.7",
      "198.51.100.7\u202e",
      "mx.example.com",
      "999.1.1.1",
      "",
      null,
    ])
      expect(ipOrNull(bad)).toBeNull();
  });
});

describe("canonicalIp", () => {
  it("gives one written form per address: IPv4-mapped is the IPv4 host, IPv6 is RFC 5952", () => {
    expect(canonicalIp("192.0.2.1")).toEqual({
      version: 4,
      address: "192.0.2.1",
      expanded: "192.0.2.1",
      written: "canonical",
    });
    for (const mapped of ["::ffff:192.0.2.1", "::FFFF:c000:0201", "0:0:0:0:0:ffff:192.0.2.1"]) {
      expect(canonicalIp(mapped)).toMatchObject({ version: 4, address: "192.0.2.1", written: "ipv4-mapped" });
    }
    expect(canonicalIp("2001:db8::192.0.2.1")).toEqual({
      version: 6,
      address: "2001:db8::c000:201",
      expanded: "20010db80000000000000000c0000201",
      written: "embedded-ipv4",
    });
    expect(canonicalIp("::192.0.2.1")).toMatchObject({ address: "::c000:201", written: "embedded-ipv4" });
    expect(canonicalIp("2001:DB8:0:0:0:0:0:1")).toMatchObject({ address: "2001:db8::1", written: "other" });
    // RFC 5952 §4.2.2-4.2.3: a single zero group is not compressed; the first of equal runs is.
    expect(canonicalIp("2001:db8:0:1:1:1:1:1")?.address).toBe("2001:db8:0:1:1:1:1:1");
    expect(canonicalIp("2001:0:0:1:0:0:0:1")?.address).toBe("2001:0:0:1::1");
    expect(canonicalIp("2001:db8:0:0:1:0:0:1")?.address).toBe("2001:db8::1:0:0:1");
    expect(canonicalIp("fe80::1%eth0")).toBeNull();
    expect(canonicalIp("192.0.2.01")).toBeNull();
  });

  it("is what ipOrNull returns, so addresses from events and config compare equal", () => {
    expect(ipOrNull("::ffff:198.51.100.7")).toBe("198.51.100.7");
    expect(ipOrNull("2001:DB8::0001")).toBe("2001:db8::1");
  });
});
