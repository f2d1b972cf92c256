import { Logger } from "@aws-lambda-powertools/logger";
import * as z from "zod";
import { s3ClientFromEnvironment } from "../../shared/aws/aws-clients.ts";
import { logSafe } from "../../shared/aws/log-text.ts";
import { receiveSendgridWebhook } from "../../shared/pipeline/webhook/receive-sendgrid-webhook.ts";
import {
  parsePublicKey,
  webhookKeyProblem,
} from "../../shared/sources/esp/sendgrid/verify-webhook-signature.ts";
import { S3ObjectStore } from "../../shared/store/s3-object-store.ts";

/*
 * SendGrid's Signed Event Webhook, behind a Lambda function URL. The URL is public (SendGrid cannot sign with
 * SigV4); what keeps it safe is the ECDSA signature over timestamp and body, checked before anything is
 * stored. A verified batch lands verbatim under raw/sendgrid/ for the scheduled ingest.
 */

const logger = new Logger({ serviceName: "bounce-radar" });
const env = z
  .object({
    DATA_BUCKET: z.string().min(3),
    /** The webhook's verification key, as SendGrid shows it (base64 DER): public, not a secret. */
    SENDGRID_WEBHOOK_PUBLIC_KEY: z
      .string()
      .min(40)
      .superRefine((key, ctx) => {
        const problem = webhookKeyProblem(key);
        if (problem) ctx.addIssue({ code: "custom", message: `SENDGRID_WEBHOOK_PUBLIC_KEY: ${problem}` });
      }),
    SENDGRID_WEBHOOK_MAX_AGE_SECONDS: z.coerce.number().int().min(60).default(600),
    AWS_REGION: z.string().min(1).default("us-east-1"),
  })
  .parse(process.env);
// Parsed once per container; the schema above has checked that it is an ECDSA P-256 public key.
const publicKey = parsePublicKey(env.SENDGRID_WEBHOOK_PUBLIC_KEY) ?? env.SENDGRID_WEBHOOK_PUBLIC_KEY;
/** Log lines quote outside text: inert and masked. */
const clean = logSafe(true);
const store = new S3ObjectStore({ bucket: env.DATA_BUCKET, client: s3ClientFromEnvironment(env.AWS_REGION) });

/** The parts of a function-URL event (payload format 2.0) the receiver reads. */
const UrlEventSchema = z.object({
  headers: z.record(z.string(), z.string()).default({}),
  body: z.string().optional(),
  isBase64Encoded: z.boolean().default(false),
  requestContext: z.object({ http: z.object({ method: z.string() }) }),
});

export interface UrlResponse {
  readonly statusCode: number;
  readonly headers?: Record<string, string>;
  readonly body: string;
}

export async function handler(event: unknown): Promise<UrlResponse> {
  const parsed = UrlEventSchema.safeParse(event);
  if (!parsed.success) return { statusCode: 400, body: "not a function URL request" };
  const request = parsed.data;
  if (request.requestContext.http.method !== "POST")
    return { statusCode: 405, headers: { allow: "POST" }, body: "" };
  const lower = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const response = await receiveSendgridWebhook(
    { headers: lower, body: request.body ?? "", isBase64Encoded: request.isBase64Encoded },
    {
      publicKey,
      store,
      now: () => new Date(),
      maxAgeSeconds: env.SENDGRID_WEBHOOK_MAX_AGE_SECONDS,
    },
  );
  if (response.statusCode >= 500)
    logger.error("webhook batch not stored", clean({ reason: response.reason, error: response.error }));
  else if (response.statusCode >= 400)
    logger.warn("webhook request refused", clean({ status: response.statusCode, reason: response.reason }));
  else if (response.stored)
    logger.info("webhook batch stored", {
      key: response.stored.key,
      events: response.stored.events,
      redelivery: !response.stored.created,
    });
  return {
    statusCode: response.statusCode,
    ...(response.headers ? { headers: response.headers } : {}),
    body: response.body,
  };
}
