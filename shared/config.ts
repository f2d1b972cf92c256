import { readFile } from "node:fs/promises";
import * as z from "zod";
import { AlertPolicySchema } from "./domain/alerts/incident-lifecycle.ts";
import { canonicalIp } from "./domain/text/safe-text.ts";
import { webhookKeyProblem } from "./sources/esp/sendgrid/verify-webhook-signature.ts";

/**
 * The one configuration schema, shared by the CLI (`--config FILE`) and the CDK app (validated at synth).
 * Credentials are never in it: sources name a secret, which the runtime resolves (Secrets Manager in AWS;
 * environment or a local secrets file on a laptop).
 */
/** A Secrets Manager secret: its name (the stack creates it, empty, for you to fill) or the ARN of one you have. */
const SecretName = z
  .string()
  .regex(
    /^(?:[A-Za-z0-9/_+=.@-]{1,512}|arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,512})$/,
    "a secret name (letters, digits, / _ + = . @ -) or a Secrets Manager secret ARN",
  );
const SourceId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "lower-case letters, digits and dashes");

/** A pull API read in time windows behind a moving cursor (Mailgun, Postmark, SparkPost). */
const windowedPull = {
  /** Where the first run starts when there is no cursor yet. */
  startAt: z.iso.datetime({ offset: true }).optional(),
  /** Providers index events late: never read closer to now than this. */
  lagMinutes: z
    .number()
    .int()
    .min(0)
    .max(24 * 60)
    .default(30),
  /** Re-read this much behind the cursor and deduplicate. */
  overlapMinutes: z
    .number()
    .int()
    .min(0)
    .max(24 * 60)
    .default(30),
  /** Each window is one batch; the cursor advances after each. */
  windowMinutes: z
    .number()
    .int()
    .min(5)
    .max(24 * 60)
    .default(60),
  /** Override for proxies and tests. */
  baseUrl: z.url().optional(),
  timeoutMs: z.number().int().min(100).max(300_000).default(30_000),
};

export const MailgunSourceConfigSchema = z.strictObject({
  id: SourceId,
  provider: z.literal("mailgun"),
  region: z.enum(["us", "eu"]).default("us"),
  /** `events` = GET /v3/{domain}/events (per domain); `logs` = POST /v1/analytics/logs (account-wide). */
  api: z.enum(["events", "logs"]).default("events"),
  domains: z.array(z.string().min(1)).default([]),
  apiKeySecret: SecretName,
  // Mailgun indexes events out of order: the lag and overlap defaults allow for it.
  ...windowedPull,
});

/** An SQS queue URL's parts: `https://sqs.{region}.amazonaws.com[.cn]/{account}/{name}`; null for other URLs. */
export function parseSqsQueueUrl(url: string): { region: string; account: string; name: string } | null {
  const m =
    /^https:\/\/sqs\.([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com(?:\.cn)?\/(\d{12})\/([A-Za-z0-9_-]{1,80}|[A-Za-z0-9_-]{1,75}\.fifo)$/.exec(
      url,
    );
  return m ? { region: m[1] as string, account: m[2] as string, name: m[3] as string } : null;
}

export const SesSourceConfigSchema = z.strictObject({
  id: SourceId,
  provider: z.literal("ses"),
  /** SQS queue subscribed to the SES event topic (SNS), or receiving EventBridge events. */
  queueUrl: z.url(),
  region: z.string().min(1).default("us-east-1"),
  /** Messages per batch: written together, then deleted together. */
  batchSize: z.number().int().min(1).max(10_000).default(1000),
  maxMessagesPerRun: z.number().int().min(1).max(1_000_000).default(50_000),
  waitTimeSeconds: z.number().int().min(0).max(20).default(20),
  /** Override for tests. */
  endpoint: z.url().optional(),
});

/**
 * SendGrid has no pull API for events: its Event Webhook posts to the stack's receiver (a Lambda function URL
 * that checks the signature and lands each batch under raw/sendgrid/), and the scheduled ingest reads those.
 * The Suppressions API (bounces, blocks) is pulled for history and for repair.
 */
export const SendgridSourceConfigSchema = z
  .strictObject({
    id: SourceId,
    provider: z.literal("sendgrid"),
    region: z.enum(["global", "eu"]).default("global"),
    /** An API key with suppression read (and, for `suppressions --apply`, delete) access. */
    apiKeySecret: SecretName.optional(),
    /** The Signed Event Webhook's verification key (base64 DER, as SendGrid shows it): public, not a secret. */
    webhookPublicKey: z
      .string()
      .min(40)
      .superRefine((key, ctx) => {
        const problem = webhookKeyProblem(key);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      })
      .optional(),
    /** Seconds a signed batch stays acceptable (replays land on the same object anyway). */
    webhookMaxAgeSeconds: z
      .number()
      .int()
      .min(60)
      .max(7 * 86_400)
      .default(600),
    /** Pull the bounce and block suppression lists each run (needs apiKeySecret). */
    pullSuppressions: z.boolean().default(false),
    startAt: z.iso.datetime({ offset: true }).optional(),
    baseUrl: z.url().optional(),
    timeoutMs: z.number().int().min(100).max(300_000).default(30_000),
  })
  .superRefine((s, ctx) => {
    // The same bounce would arrive twice under different ids and count twice in every rate.
    if (s.pullSuppressions && s.webhookPublicKey)
      ctx.addIssue({
        code: "custom",
        path: ["pullSuppressions"],
        message: "choose the webhook or the suppression lists as this source's bounces, not both",
      });
    if (s.pullSuppressions && !s.apiKeySecret)
      ctx.addIssue({
        code: "custom",
        path: ["apiKeySecret"],
        message: "needed to pull the suppression lists",
      });
  });

/**
 * Postmark's Bounces API. Bounces only: Postmark's pull APIs have no per-recipient delivery, so rates need
 * Delivery webhook records imported beside it (`bounce-radar import --source postmark`).
 */
export const PostmarkSourceConfigSchema = z.strictObject({
  id: SourceId,
  provider: z.literal("postmark"),
  /** A Server API token (not the Account token). */
  serverTokenSecret: SecretName,
  ...windowedPull,
});

/** SparkPost's Events API. */
export const SparkpostSourceConfigSchema = z.strictObject({
  id: SourceId,
  provider: z.literal("sparkpost"),
  region: z.enum(["us", "eu"]).default("us"),
  apiKeySecret: SecretName,
  ...windowedPull,
});

export const SourceConfigSchema = z.discriminatedUnion("provider", [
  MailgunSourceConfigSchema,
  SesSourceConfigSchema,
  SendgridSourceConfigSchema,
  PostmarkSourceConfigSchema,
  SparkpostSourceConfigSchema,
]);
export type SourceConfig = z.infer<typeof SourceConfigSchema>;
export type MailgunSourceConfig = z.infer<typeof MailgunSourceConfigSchema>;
export type SesSourceConfig = z.infer<typeof SesSourceConfigSchema>;
export type SendgridSourceConfig = z.infer<typeof SendgridSourceConfigSchema>;
export type PostmarkSourceConfig = z.infer<typeof PostmarkSourceConfigSchema>;
export type SparkpostSourceConfig = z.infer<typeof SparkpostSourceConfigSchema>;

/** EventBridge Scheduler expressions: `rate(15 minutes)` or `cron(0 * * * ? *)`. */
const ScheduleExpression = z
  .string()
  .regex(
    /^(?:rate\(\s*[1-9]\d*\s+(?:minute|minutes|hour|hours|day|days)\s*\)|cron\(\s*\S+(?:\s+\S+){5}\s*\))$/,
    'an EventBridge Scheduler expression such as "rate(15 minutes)" or "cron(0 * * * ? *)"',
  );

/** E.164: a plus, a country code and up to 15 digits in all. */
const E164 = z.string().regex(/^\+[1-9]\d{6,14}$/, "an E.164 phone number such as +447700900123");

export const ScheduleConfigSchema = z
  .strictObject({
    ingestEvents: ScheduleExpression.default("rate(15 minutes)"),
    ingestReputation: ScheduleExpression.default("rate(6 hours)"),
    analyze: ScheduleExpression.default("rate(1 hour)"),
  })
  .prefault({});

/** Days objects are kept; S3 requires 30 days before a move to Standard-IA. */
export const RetentionConfigSchema = z
  .strictObject({
    rawInfrequentAccessAfterDays: z.number().int().min(30).max(3650).default(30),
    rawExpireAfterDays: z.number().int().min(1).max(3650).default(180),
    eventsExpireAfterDays: z.number().int().min(1).max(3650).default(400),
    reportsExpireAfterDays: z.number().int().min(1).max(3650).default(400),
    quarantineExpireAfterDays: z.number().int().min(1).max(3650).default(90),
    accessLogsExpireAfterDays: z.number().int().min(1).max(3650).default(90),
    /** Older versions of overwritten objects (state, latest reports). */
    noncurrentVersionsExpireAfterDays: z.number().int().min(1).max(365).default(30),
  })
  .prefault({})
  .superRefine((r, ctx) => {
    if (r.rawExpireAfterDays <= r.rawInfrequentAccessAfterDays)
      ctx.addIssue({
        code: "custom",
        path: ["rawExpireAfterDays"],
        message: `must be later than rawInfrequentAccessAfterDays (${r.rawInfrequentAccessAfterDays})`,
      });
  });

export const BUILT_IN_BLOCKLISTS = ["spamhaus-zen", "spamhaus-dbl", "barracuda", "spamcop"] as const;

const DnsCode = z.string().regex(/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/, "an answer in 127.0.0.0/8");

/**
 * A sending IP as block lists and SNDS are asked about it. An IPv6 address written with a dotted IPv4 tail is
 * refused: `::ffff:192.0.2.1` is the IPv4 host 192.0.2.1 (lists are asked about that), `2001:db8::192.0.2.1` a
 * plain IPv6 address; the message gives the form to write. Other spellings are stored canonical (RFC 5952).
 */
const SendingIp = z.string().transform((text, ctx) => {
  const ip = canonicalIp(text);
  if (ip === null) {
    ctx.addIssue({ code: "custom", message: `${JSON.stringify(text)} is not an IPv4 or IPv6 address` });
    return z.NEVER;
  }
  if (ip.written === "ipv4-mapped" || ip.written === "embedded-ipv4") {
    ctx.addIssue({
      code: "custom",
      message:
        ip.written === "ipv4-mapped"
          ? `${JSON.stringify(text)} is an IPv4-mapped IPv6 address: block lists and SNDS are asked about the IPv4 host, so write ${ip.address}`
          : `${JSON.stringify(text)} writes an IPv6 address with a dotted IPv4 tail, which would not build a block-list query: write ${ip.address}`,
    });
    return z.NEVER;
  }
  return ip.address;
});

/** Sender reputation: block lists asked about the sending IPs and domains (see docs/reputation.md). */
export const ReputationConfigSchema = z.strictObject({
  blocklists: z.array(z.enum(BUILT_IN_BLOCKLISTS)).default([...BUILT_IN_BLOCKLISTS]),
  /** More lists, or lists on your own resolver. */
  customBlocklists: z
    .array(
      z.strictObject({
        id: SourceId,
        zone: z.string().regex(/^[a-z0-9.-]+$/i, "a DNS zone"),
        targets: z.enum(["ip", "domain"]),
        codes: z.record(DnsCode, z.string()).default({ "127.0.0.2": "listed" }),
        errorCodes: z.record(DnsCode, z.string()).default({}),
        ipv6: z.boolean().default(false),
      }),
    )
    .default([]),
  /** Spamhaus refuses queries from AWS's and public resolvers: its free DQS key (a secret) is the way. */
  spamhausDqsKeySecret: SecretName.optional(),
  sendingIps: z.array(SendingIp).default([]),
  sendingDomains: z.array(z.string().min(1)).default([]),
  /** Sending IPs seen in events of the last N days are checked too. */
  lookbackDays: z.number().int().min(0).max(14).default(2),
  dnsServers: z.array(z.string().min(1)).default([]),
  dnsTimeoutMs: z.number().int().min(100).max(30_000).default(2000),
  /**
   * Google Postmaster Tools API v2 for the sending domains (mail to personal Gmail accounts). The secret holds
   * {"client_id", "client_secret", "refresh_token"} of a user who is OWNER or READER of the domains.
   */
  postmaster: z
    .strictObject({
      credentialsSecret: SecretName,
      /** Default: sendingDomains. */
      domains: z.array(z.string().min(1)).optional(),
      /** Days read back each run (Google reports daily, about a day late). */
      lookbackDays: z.number().int().min(1).max(30).default(7),
      /** Overrides for proxies and tests. */
      baseUrl: z.url().optional(),
      tokenUrl: z.url().optional(),
    })
    .optional(),
  /** Microsoft SNDS automated data access (Outlook.com consumer mailboxes, per sending IP). The secret holds the key. */
  snds: z
    .strictObject({
      keySecret: SecretName,
      /** SNDS's latest day may be incomplete: read this many days back. */
      daysBack: z.number().int().min(1).max(30).default(2),
      baseUrl: z.url().optional(),
    })
    .optional(),
  /** Amazon SES account reputation (GetAccount, CloudWatch Reputation.* metrics) in these regions. */
  ses: z
    .strictObject({ regions: z.array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "an AWS region")).min(1) })
    .optional(),
  /** SendGrid account reputation and Engagement Quality scores. The secret holds an API key. */
  sendgrid: z
    .strictObject({
      apiKeySecret: SecretName,
      region: z.enum(["global", "eu"]).default("global"),
      engagementQuality: z.boolean().default(true),
      baseUrl: z.url().optional(),
    })
    .optional(),
  /** SparkPost Signals health score per sending domain. The secret holds an API key. */
  sparkpost: z
    .strictObject({
      apiKeySecret: SecretName,
      region: z.enum(["us", "eu"]).default("us"),
      baseUrl: z.url().optional(),
    })
    .optional(),
  /** SPF, DMARC, DKIM and MTA-STS of the sending domains, over DNS (dnsServers). */
  authentication: z
    .strictObject({
      /** Default: sendingDomains. */
      domains: z.array(z.string().min(1)).optional(),
      /** DKIM selectors cannot be listed over DNS: name the ones you sign with. */
      dkimSelectors: z.array(z.string().regex(/^[A-Za-z0-9._-]+$/, "a DKIM selector")).default([]),
    })
    .optional(),
});
export type ReputationConfig = z.infer<typeof ReputationConfigSchema>;

export const ConfigSchema = z
  .strictObject({
    sources: z.array(SourceConfigSchema).default([]),
    /** Optional: without it no reputation data is fetched. */
    reputation: ReputationConfigSchema.optional(),
    /** Laptop only: a JSON file of {"secret-name": "value"}; in AWS secrets come from Secrets Manager. */
    secretsFile: z.string().optional(),
    masking: z.strictObject({ recipients: z.boolean().default(true) }).default({ recipients: true }),
    alerts: AlertPolicySchema.prefault({}),
    /** Who the alert topic notifies in AWS (each email subscription must be confirmed once). */
    subscriptions: z
      .strictObject({
        emails: z.array(z.email("an email address")).default([]),
        phones: z.array(E164).default([]),
      })
      .prefault({}),
    schedules: ScheduleConfigSchema,
    retention: RetentionConfigSchema,
    /** AWS deployment knobs with safe defaults. */
    deployment: z
      .strictObject({
        /** Alarm when no ingest succeeded for this many ingest intervals. */
        staleAfterIntervals: z.number().int().min(2).max(96).default(4),
        /** Athena refuses a query that would scan more than this. */
        athenaBytesScannedCutoffMb: z.number().int().min(10).max(1_000_000).default(10_240),
        lambdaMemoryMb: z.number().int().min(256).max(10_240).default(1024),
        lambdaTimeoutSeconds: z.number().int().min(60).max(900).default(600),
        logRetentionDays: z.number().int().min(1).max(3653).default(90),
        /**
         * Concurrency reserved for the public webhook receiver: also its ceiling, so a flood of requests cannot
         * take the account's concurrency from the scheduled jobs. null = not reserved (an account whose limit is
         * still 10 cannot reserve any: AWS keeps 10 unreserved).
         */
        webhookReservedConcurrency: z.number().int().min(1).max(1000).nullable().default(10),
      })
      .prefault({}),
    analysis: z
      .strictObject({
        windowHours: z
          .number()
          .min(1)
          .max(24 * 14)
          .default(24),
        baselineDays: z.number().int().min(1).max(365).default(28),
        /** DNS servers for MX lookups ("HOST" or "HOST:PORT"); empty = the system's resolver. */
        dnsServers: z.array(z.string().min(1)).default([]),
        dnsTimeoutMs: z.number().int().min(100).max(30_000).default(2000),
        /** Spike-test thresholds (see docs/verdicts-and-runbook.md). */
        thresholds: z
          .strictObject({
            fdr: z.number().gt(0).max(0.5).default(0.05),
            minHardBounces: z.number().int().min(1).max(1000).default(3),
            minRateIncrease: z.number().min(0).max(1).default(0.02),
            minRateRatio: z.number().min(1).max(100).default(2),
          })
          .prefault({}),
      })
      .prefault({}),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    for (const [i, s] of config.sources.entries()) {
      if (seen.has(s.id))
        ctx.addIssue({
          code: "custom",
          path: ["sources", i, "id"],
          message: `duplicate source id "${s.id}"`,
        });
      seen.add(s.id);
      if (s.provider === "mailgun" && s.api === "events" && s.domains.length === 0) {
        ctx.addIssue({
          code: "custom",
          path: ["sources", i, "domains"],
          message: "the Events API needs at least one sending domain",
        });
      }
    }
    // Webhook batches land under raw/sendgrid/ whichever source they are for: one receiver per deployment.
    const hooks = config.sources.flatMap((s, i) =>
      s.provider === "sendgrid" && s.webhookPublicKey ? [i] : [],
    );
    for (const i of hooks.slice(1))
      ctx.addIssue({
        code: "custom",
        path: ["sources", i, "webhookPublicKey"],
        message: "only one SendGrid source per deployment can take the Event Webhook",
      });
  });
export type Config = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {}

/** Parses a configuration object; the error names every offending field by its path. */
export function parseConfig(value: unknown, origin = "config"): Config {
  const parsed = ConfigSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map(
    (i) => `  ${i.path.length > 0 ? i.path.join(".") : "(top level)"}: ${i.message}`,
  );
  throw new ConfigError(`${origin} is invalid:\n${lines.join("\n")}`);
}

export async function loadConfigFile(path: string): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new ConfigError(
      `cannot read config file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  return parseConfig(json, path);
}
