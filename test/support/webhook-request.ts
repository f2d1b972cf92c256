import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";

/** SendGrid's Signed Event Webhook keys for tests: a P-256 pair, the public half as SendGrid shows it (base64 DER). */
export function webhookKeys(): { readonly privateKey: KeyObject; readonly publicKey: string } {
  const pair = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  return {
    privateKey: pair.privateKey,
    publicKey: pair.publicKey.export({ type: "spki", format: "der" }).toString("base64"),
  };
}

/** A function-URL request (payload 2.0) carrying a webhook batch, signed with the key unless told otherwise. */
export function webhookRequest(body: string, privateKey: KeyObject, signed = true): unknown {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = sign("sha256", Buffer.from(timestamp + body), privateKey).toString("base64");
  return {
    version: "2.0",
    headers: {
      "content-type": "application/json",
      ...(signed
        ? {
            "x-twilio-email-event-webhook-signature": signature,
            "x-twilio-email-event-webhook-timestamp": timestamp,
          }
        : {}),
    },
    body,
    isBase64Encoded: false,
    requestContext: { http: { method: "POST" } },
  };
}
