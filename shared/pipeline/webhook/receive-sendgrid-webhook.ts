import { createHash, type KeyObject } from "node:crypto";
import { gzipSync } from "node:zlib";
import {
  SENDGRID_SIGNATURE_HEADER,
  SENDGRID_TIMESTAMP_HEADER,
  verifySendgridSignature,
} from "../../sources/esp/sendgrid/verify-webhook-signature.ts";
import { keys, utcDate } from "../../store/keys.ts";
import type { ObjectStore } from "../../store/object-store.ts";

/*
 * The core of the SendGrid Event Webhook endpoint (docs/sources.md#sendgrid): verify the signature over the
 * exact bytes received, then land the batch verbatim. Nothing is parsed beyond "is it a JSON array": mapping
 * happens at ingest, from the raw copy, so a mapper fix can be replayed over everything ever received.
 * SendGrid retries non-2xx for hours and sends duplicates, so the key is the arrival date plus the bytes' hash: a
 * redelivery the same day lands on the object already there, one after midnight on a second object whose events
 * the ingest skips as duplicates (by sg_event_id). Filing by arrival, not by the events' dates, is what lets the
 * ingest find every batch: it reads arrival days from where it left off, however old the events inside.
 */

export interface WebhookRequest {
  /** Header names lower-case (API Gateway v2 and Lambda function URLs give them so). */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string | Buffer | null | undefined;
  readonly isBase64Encoded?: boolean;
}

export interface ReceiveSendgridWebhookDeps {
  /** The Signed Event Webhook verification key (base64 DER SPKI or PEM), or the parsed key. */
  readonly publicKey: string | KeyObject;
  readonly store: ObjectStore;
  readonly now: () => Date;
  /** Replay window for the signed timestamp (default 300 s). */
  readonly maxAgeSeconds?: number;
  /** Bodies above this are refused with 413 (default 5 MB; SendGrid posts at most ~768 KB). */
  readonly maxBodyBytes?: number;
}

export interface WebhookResponse {
  readonly statusCode: number;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Set when a batch was landed: `created` is false for a redelivery of bytes already stored. */
  readonly stored?: { readonly key: string; readonly created: boolean; readonly events: number };
  /** Why the request was refused or failed, for the caller's log. */
  readonly reason?: string;
  /** The store's error behind a 500, for the caller's log. */
  readonly error?: unknown;
}

export const DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024;

const JSON_HEADERS = { "content-type": "application/json" } as const;

export async function receiveSendgridWebhook(
  request: WebhookRequest,
  deps: ReceiveSendgridWebhookDeps,
): Promise<WebhookResponse> {
  const signature = header(request.headers, SENDGRID_SIGNATURE_HEADER);
  const timestamp = header(request.headers, SENDGRID_TIMESTAMP_HEADER);
  if (!signature || !timestamp) {
    return refuse(401, signature ? "missing timestamp" : "missing signature");
  }

  const maxBytes = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const raw = bodyBytes(request, maxBytes);
  if (raw === "too large") return refuse(413, `body larger than ${maxBytes} bytes`);

  const now = deps.now();
  const check = verifySendgridSignature({
    publicKey: deps.publicKey,
    signature,
    timestamp,
    rawBody: raw,
    now,
    ...(deps.maxAgeSeconds === undefined ? {} : { maxAgeSeconds: deps.maxAgeSeconds }),
  });
  if (!check.ok) {
    // Our configuration, not the caller: 500 makes SendGrid retry until the key is fixed.
    if (check.reason === "malformed public key") return refuse(500, "webhook verification key is unusable");
    return refuse(401, check.reason);
  }

  let batch: unknown;
  try {
    batch = JSON.parse(raw.toString("utf8"));
  } catch {
    return refuse(400, "body is not JSON");
  }
  if (!Array.isArray(batch)) return refuse(400, "body is not a JSON array of events");
  // Nothing to keep; SendGrid's "test your integration" posts are not empty, so this is only odd clients.
  if (batch.length === 0) return { statusCode: 204, body: "" };

  // The arrival date, never the events' dates: the ingest reads arrival days in order (sendgrid-ingest.ts).
  const key = sendgridWebhookRawKey(raw, utcDate(now));
  try {
    // ifAbsent: a redelivery (same bytes, same key) keeps the first copy and costs no rewrite.
    const created = await deps.store.put(key, gzipSync(raw), {
      ifAbsent: true,
      contentType: "application/gzip",
    });
    return { statusCode: 204, body: "", stored: { key, created, events: batch.length } };
  } catch (error) {
    // 5xx: SendGrid retries the batch later; nothing was acknowledged.
    return {
      statusCode: 500,
      body: errorBody("could not store the batch"),
      headers: JSON_HEADERS,
      reason: "store failed",
      error,
    };
  }
}

/** The batch id of a webhook body: `webhook-` and the first 32 hex of its SHA-256. */
export function sendgridWebhookBatchId(raw: Buffer): string {
  return `webhook-${createHash("sha256").update(raw).digest("hex").slice(0, 32)}`;
}

/**
 * `raw/sendgrid/dt=YYYY-MM-DD/webhook-<sha256/32>-0.json.gz`: keys.raw with part 0, so an ingest of the
 * batch as IngestBatch {batchId: sendgridWebhookBatchId(raw), rawDate: dt} lands its raw copy on this very key.
 */
export function sendgridWebhookRawKey(raw: Buffer, dt: string): string {
  return keys.raw("sendgrid", dt, sendgridWebhookBatchId(raw), 0);
}

/** The body as the exact bytes SendGrid sent, or "too large" (checked before decoding base64). */
function bodyBytes(request: WebhookRequest, maxBytes: number): Buffer | "too large" {
  const body = request.body ?? "";
  if (Buffer.isBuffer(body)) return body.length > maxBytes ? "too large" : body;
  if (request.isBase64Encoded) {
    // Base64 is 4 characters per 3 bytes: refuse an oversized body before allocating it.
    if (Math.floor((body.length * 3) / 4) > maxBytes + 2) return "too large";
    const bytes = Buffer.from(body, "base64");
    return bytes.length > maxBytes ? "too large" : bytes;
  }
  const bytes = Buffer.from(body, "utf8");
  return bytes.length > maxBytes ? "too large" : bytes;
}

/** Lower-case names as documented; other casings are looked up too, so a different front end still works. */
function header(headers: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  const exact = headers[name];
  if (exact !== undefined) return exact.trim() || undefined;
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v?.trim() || undefined;
  return undefined;
}

function refuse(statusCode: number, reason: string): WebhookResponse {
  return { statusCode, body: errorBody(reason), headers: JSON_HEADERS, reason };
}

function errorBody(message: string): string {
  return JSON.stringify({ error: message });
}
