import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  parsePublicKey,
  verifySendgridSignature,
} from "../../../../../shared/sources/esp/sendgrid/verify-webhook-signature.ts";

const keys = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
const other = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
/** As SendGrid's settings page shows it: base64 of the DER SubjectPublicKeyInfo. */
const PUBLIC_B64 = keys.publicKey.export({ format: "der", type: "spki" }).toString("base64");
const PUBLIC_PEM = keys.publicKey.export({ format: "pem", type: "spki" }).toString();

const NOW = new Date("2024-05-29T16:30:00Z");
const TS = String(NOW.getTime() / 1000 - 10);
const BODY = `[{"email":"a.lee@acme-corp.com","timestamp":1717000000,"event":"delivered","sg_event_id":"x"}]\r\n`;

/** What SendGrid does: ECDSA P-256, SHA-256 over timestamp + body, DER, base64. */
function signed(body: string | Buffer, timestamp = TS, key: KeyObject = keys.privateKey): string {
  const data = Buffer.concat([Buffer.from(timestamp), Buffer.from(body)]);
  return sign("sha256", data, { key, dsaEncoding: "der" }).toString("base64");
}

function check(overrides: Partial<Parameters<typeof verifySendgridSignature>[0]> = {}) {
  return verifySendgridSignature({
    publicKey: PUBLIC_B64,
    signature: signed(BODY),
    timestamp: TS,
    rawBody: BODY,
    now: NOW,
    ...overrides,
  });
}

describe("verifySendgridSignature", () => {
  it("accepts a valid signature, with the key as base64 DER, PEM or a KeyObject, the body as text or bytes", () => {
    expect(check()).toEqual({ ok: true });
    expect(check({ publicKey: PUBLIC_PEM })).toEqual({ ok: true });
    expect(check({ publicKey: PUBLIC_PEM.replace(/\n/g, "\\n") })).toEqual({ ok: true });
    expect(check({ publicKey: keys.publicKey })).toEqual({ ok: true });
    expect(check({ rawBody: Buffer.from(BODY) })).toEqual({ ok: true });
  });

  it("verifies the exact bytes: non-ASCII and whitespace count", () => {
    const body = Buffer.from('[{"email":"jörg@bücher.example"}]  \n', "utf8");
    expect(check({ rawBody: body, signature: signed(body) })).toEqual({ ok: true });
    // Re-serialized JSON is a different byte string.
    expect(check({ rawBody: JSON.stringify(JSON.parse(body.toString())), signature: signed(body) })).toEqual({
      ok: false,
      reason: "bad signature",
    });
  });

  it("rejects a tampered body", () => {
    expect(check({ rawBody: BODY.replace("delivered", "bounce") })).toEqual({
      ok: false,
      reason: "bad signature",
    });
    expect(check({ rawBody: `${BODY} ` })).toEqual({ ok: false, reason: "bad signature" });
  });

  it("rejects a signature made with another key", () => {
    expect(check({ signature: signed(BODY, TS, other.privateKey) })).toEqual({
      ok: false,
      reason: "bad signature",
    });
  });

  it("rejects a timestamp that differs from the one signed", () => {
    expect(check({ timestamp: String(Number(TS) + 1) })).toEqual({ ok: false, reason: "bad signature" });
  });

  it("rejects stale timestamps, even correctly signed, and honours maxAgeSeconds", () => {
    const old = String(NOW.getTime() / 1000 - 301);
    expect(check({ timestamp: old, signature: signed(BODY, old) })).toEqual({
      ok: false,
      reason: "stale timestamp",
    });
    const edge = String(NOW.getTime() / 1000 - 300);
    expect(check({ timestamp: edge, signature: signed(BODY, edge) })).toEqual({ ok: true });
    expect(check({ timestamp: old, signature: signed(BODY, old), maxAgeSeconds: 3600 })).toEqual({
      ok: true,
    });
  });

  it("rejects timestamps too far in the future, allowing small clock skew", () => {
    const ahead = String(NOW.getTime() / 1000 + 61);
    expect(check({ timestamp: ahead, signature: signed(BODY, ahead) })).toEqual({
      ok: false,
      reason: "future timestamp",
    });
    const skew = String(NOW.getTime() / 1000 + 30);
    expect(check({ timestamp: skew, signature: signed(BODY, skew) })).toEqual({ ok: true });
  });

  it("rejects missing or empty headers", () => {
    expect(check({ signature: undefined })).toEqual({ ok: false, reason: "missing signature" });
    expect(check({ signature: "  " })).toEqual({ ok: false, reason: "missing signature" });
    expect(check({ timestamp: undefined })).toEqual({ ok: false, reason: "missing timestamp" });
    expect(check({ timestamp: "" })).toEqual({ ok: false, reason: "missing timestamp" });
  });

  it.each(["1.7e9", "-1717000000", "1717000000abc", "0x66575A80", "9".repeat(40)])(
    "rejects the timestamp %j as malformed",
    (timestamp) => {
      expect(check({ timestamp, signature: signed(BODY, timestamp) })).toEqual({
        ok: false,
        reason: "malformed timestamp",
      });
    },
  );

  it.each([
    ["not base64", "!!!not base64!!!"],
    ["too short", "AAAA"],
    ["too long", Buffer.alloc(200, 1).toString("base64")],
    ["junk DER", Buffer.alloc(70, 0x30).toString("base64")],
    ["a raw r||s signature", Buffer.alloc(64, 7).toString("base64")],
  ])("answers bad signature, never throws, for a signature that is %s", (_name, signature) => {
    expect(check({ signature })).toEqual({ ok: false, reason: "bad signature" });
  });

  it.each([
    ["empty", ""],
    ["not base64", "%%%"],
    ["not a key", Buffer.from("hello").toString("base64")],
    [
      "an RSA key",
      generateKeyPairSync("rsa", { modulusLength: 1024 })
        .publicKey.export({ format: "der", type: "spki" })
        .toString("base64"),
    ],
    [
      "a P-384 key",
      generateKeyPairSync("ec", { namedCurve: "secp384r1" })
        .publicKey.export({ format: "der", type: "spki" })
        .toString("base64"),
    ],
    ["a broken PEM", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"],
  ])("reports a public key that is %s as malformed", (_name, publicKey) => {
    expect(check({ publicKey })).toEqual({ ok: false, reason: "malformed public key" });
  });

  it("parsePublicKey tolerates whitespace and line breaks in a base64 key", () => {
    const wrapped = PUBLIC_B64.replace(/(.{40})/g, "$1\n");
    expect(parsePublicKey(`  ${wrapped}  `)?.asymmetricKeyType).toBe("ec");
    expect(parsePublicKey("nope")).toBeNull();
  });
});
