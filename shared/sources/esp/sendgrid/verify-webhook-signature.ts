import { createPublicKey, type KeyObject, verify } from "node:crypto";

/*
 * SendGrid Signed Event Webhook (https://sendgrid.com/docs/for-developers/tracking-events/getting-started-event-webhook-security-features/): ECDSA P-256 over SHA-256 of `timestamp + rawBody`, the
 * signature base64 ASN.1 DER in X-Twilio-Email-Event-Webhook-Signature, the timestamp (Unix seconds) in
 * X-Twilio-Email-Event-Webhook-Timestamp. SendGrid documents no replay window, so we add one. Everything
 * here reads attacker input: it answers {ok: false, reason}, never throws.
 */

export const SENDGRID_SIGNATURE_HEADER = "x-twilio-email-event-webhook-signature";
export const SENDGRID_TIMESTAMP_HEADER = "x-twilio-email-event-webhook-timestamp";

export type SignatureFailure =
  | "missing signature"
  | "missing timestamp"
  | "malformed timestamp"
  | "stale timestamp"
  | "future timestamp"
  | "malformed public key"
  | "bad signature";

export type SignatureCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: SignatureFailure };

export interface VerifySendgridSignatureInput {
  /** The account's verification key as SendGrid shows it (base64 DER SPKI), or a PEM public key. */
  readonly publicKey: string | KeyObject;
  /** The signature header: base64 DER ECDSA. */
  readonly signature: string | undefined;
  /** The timestamp header: Unix seconds. */
  readonly timestamp: string | undefined;
  /** The request body exactly as received (no re-serialization). */
  readonly rawBody: Buffer | string;
  readonly now: Date;
  /** Oldest accepted timestamp, seconds before `now` (default 300). */
  readonly maxAgeSeconds?: number;
  /** Clock skew accepted for timestamps ahead of `now` (default 60). */
  readonly maxFutureSeconds?: number;
}

export const DEFAULT_MAX_AGE_SECONDS = 300;
export const DEFAULT_MAX_FUTURE_SECONDS = 60;

// Buffer.from(x, "base64") skips characters it does not know: check the alphabet so junk is not half-read.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;
// A DER ECDSA P-256 signature is a SEQUENCE of two INTEGERs: 8 to 72 bytes.
const MAX_SIGNATURE_BYTES = 72;

export function verifySendgridSignature(input: VerifySendgridSignatureInput): SignatureCheck {
  const signature = input.signature?.trim() ?? "";
  if (signature === "") return fail("missing signature");
  const timestamp = input.timestamp?.trim() ?? "";
  if (timestamp === "") return fail("missing timestamp");

  const key = typeof input.publicKey === "string" ? parsePublicKey(input.publicKey) : input.publicKey;
  if (key === null || !isP256(key)) return fail("malformed public key");

  // Digits only: the exact header text is what was signed, so "1.7e9" or " 17…" must not be reinterpreted.
  if (!/^\d{1,12}$/.test(timestamp)) return fail("malformed timestamp");
  const ageSeconds = input.now.getTime() / 1000 - Number(timestamp);
  if (ageSeconds > (input.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS)) return fail("stale timestamp");
  if (-ageSeconds > (input.maxFutureSeconds ?? DEFAULT_MAX_FUTURE_SECONDS)) return fail("future timestamp");

  if (!BASE64.test(signature)) return fail("bad signature");
  const der = Buffer.from(signature, "base64");
  if (der.length < 8 || der.length > MAX_SIGNATURE_BYTES) return fail("bad signature");

  const body = typeof input.rawBody === "string" ? Buffer.from(input.rawBody, "utf8") : input.rawBody;
  const signed = Buffer.concat([Buffer.from(timestamp, "utf8"), body]);
  try {
    return verify("sha256", signed, { key, dsaEncoding: "der" }, der) ? { ok: true } : fail("bad signature");
  } catch {
    // OpenSSL rejects some malformed DER by throwing rather than answering false.
    return fail("bad signature");
  }
}

/**
 * The key as SendGrid's settings page and API give it (base64 of the DER SubjectPublicKeyInfo), or PEM.
 * Null when it is neither. Parse once at startup and pass the KeyObject to skip this per request.
 */
export function parsePublicKey(text: string): KeyObject | null {
  const t = text.trim();
  // Node derives a public key from a private one: refuse it rather than run with a leaked private half.
  if (PRIVATE_PEM.test(t)) return null;
  try {
    // A PEM kept in an environment variable often has its newlines escaped.
    if (t.startsWith("-----BEGIN")) return createPublicKey({ key: t.replace(/\\n/g, "\n"), format: "pem" });
    const compact = t.replace(/\s+/g, "");
    if (compact === "" || !BASE64.test(compact)) return null;
    return createPublicKey({ key: Buffer.from(compact, "base64"), format: "der", type: "spki" });
  } catch {
    return null;
  }
}

const PRIVATE_PEM = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

/**
 * Why a configured verification key cannot verify SendGrid's signatures, or null when it can: checked at synth
 * and at start-up, so a wrong key is a configuration error, not a 500 on every delivery.
 */
export function webhookKeyProblem(text: string): string | null {
  if (PRIVATE_PEM.test(text))
    return "this is a private key: configure the verification key SendGrid shows (public), and keep the private half out of the config";
  const key = parsePublicKey(text);
  if (key === null) return "not a public key: expected base64 DER as SendGrid shows it, or a PEM public key";
  if (key.asymmetricKeyType !== "ec")
    return `the key is ${String(key.asymmetricKeyType).toUpperCase()}: SendGrid signs with ECDSA P-256`;
  if (!isP256(key))
    return `an EC key on ${key.asymmetricKeyDetails?.namedCurve ?? "an unknown curve"}: SendGrid signs with ECDSA P-256 (prime256v1)`;
  return null;
}

function isP256(key: KeyObject): boolean {
  return (
    key.type === "public" &&
    key.asymmetricKeyType === "ec" &&
    key.asymmetricKeyDetails?.namedCurve === "prime256v1"
  );
}

function fail(reason: SignatureFailure): SignatureCheck {
  return { ok: false, reason };
}
