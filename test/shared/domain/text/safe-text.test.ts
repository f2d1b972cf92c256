import { describe, expect, it } from "vitest";
import {
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
