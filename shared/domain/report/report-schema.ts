import * as z from "zod";
import { CategorySchema, SideSchema } from "../classify/taxonomy.ts";

/**
 * The report contract (schemaVersion 1). Other tools read report.json: change
 * it only by adding optional fields, never by renaming or removing one.
 */
export const VerdictSchema = z.enum([
  "recipient_filter",
  "sender_reputation",
  "sender_authentication",
  "content_block",
  "esp_fault",
  "list_decay",
  "unknown",
]);
export type Verdict = z.infer<typeof VerdictSchema>;

const instant = z.iso.datetime({ offset: true });
const rate = z.number().min(0).max(1);
const count = z.number().int().min(0);

export const PeriodSchema = z.object({ start: instant, end: instant });

/** Daily counts for charts: one point per UTC day of the baseline and window. */
export const SeriesPointSchema = z.object({ date: z.iso.date(), attempts: count, hardBounces: count });

export const EvidenceSchema = z.object({
  /** One of the signals (docs/verdicts-and-runbook.md#the-signals): breadth, control_group, recipient_history, rejection_text, sending_infrastructure, reputation, onset. */
  signal: z.string(),
  detail: z.string(),
});

export const SampleSchema = z.object({
  /** Masked by default (j***@acme.com). */
  recipient: z.string(),
  /** The reply as the ESP gave it; with masking on, addresses quoted in it are masked too. */
  text: z.string(),
  category: CategorySchema,
});

export const IncidentSchema = z.object({
  id: z.string(),
  verdict: VerdictSchema,
  side: SideSchema,
  confidence: z.number().min(0).max(1),
  /** Worth waking someone for. */
  alert: z.boolean(),
  firstSeen: instant,
  scope: z.object({
    domains: z.array(z.string()),
    gateways: z.array(z.string()),
    sendingIps: z.array(z.string()),
  }),
  metrics: z.looseObject({
    attempts: count,
    hardBounces: count,
    rate,
    baselineRate: rate,
    /** Share of the hard-bounced addresses that had a successful delivery in the last 90 days. */
    previouslyDelivered: rate,
    bouncedAddresses: count,
  }),
  evidence: z.array(EvidenceSchema),
  samples: z.array(SampleSchema),
  /**
   * One entry per address the ESPs suppressed although it had a delivery in the last 90 days, masked unless
   * masking is off. Told apart on the full address, so masked entries may repeat (`a***@acme.com` for anna@
   * and anton@): the length is the count, the one `bounce-radar suppressions` lists.
   */
  wronglySuppressed: z.array(z.string()),
  actions: z.array(z.string()),
  series: z.array(SeriesPointSchema).optional(),
  /**
   * How the incident was found and which dimension explains it (added in 0.2; optional, so older readers and
   * older reports stay valid): the basis, the sender dimension and elements carrying the excess (actual and
   * expected hard bounces, explanatory power, surprise), organisations whose clusters joined this story, and
   * the features the confidence model weighed.
   */
  attribution: z
    .object({
      basis: z.enum(["localised", "sender_wide", "control_group", "recipient_cluster"]),
      dimension: z.enum(["sendingIp", "ipPool", "source", "campaign", "gateway", "organisation"]).optional(),
      elements: z
        .array(
          z.object({
            element: z.string(),
            actual: count,
            expected: z.number().min(0),
            explanatoryPower: z.number(),
            surprise: z.number().min(0),
          }),
        )
        .optional(),
      explanatoryPower: z.number().optional(),
      surprise: z.number().min(0).optional(),
      ofElements: count.optional(),
      absorbed: z.array(z.string()),
      features: z.record(z.string(), z.number()),
    })
    .optional(),
});
export type Incident = z.infer<typeof IncidentSchema>;

export const OrganisationRowSchema = z.looseObject({
  domain: z.string(),
  gateway: z.string(),
  consumer: z.boolean(),
  attempts: count,
  hardBounces: count,
  rate,
  baselineAttempts: count,
  baselineHardBounces: count,
  baselineRate: rate,
  /** Rate after shrinking toward the population (empirical Bayes). */
  shrunkRate: rate,
  pValue: z.number().min(0).max(1),
  qValue: z.number().min(0).max(1),
  spike: z.boolean(),
  categories: z.record(z.string(), count),
});
export type OrganisationRow = z.infer<typeof OrganisationRowSchema>;

export const GatewayRowSchema = z.looseObject({
  gateway: z.string(),
  organisations: count,
  attempts: count,
  hardBounces: count,
  rate,
  baselineRate: rate,
  pValue: z.number().min(0).max(1),
  qValue: z.number().min(0).max(1),
  spike: z.boolean(),
});

export const ReportSchema = z.object({
  schemaVersion: z.literal(1),
  generatedAt: instant,
  runId: z.string(),
  window: PeriodSchema,
  baseline: PeriodSchema,
  totals: z.looseObject({
    attempts: count,
    hardBounces: count,
    hardBounceRate: rate,
    baselineRate: rate,
    organisations: count,
    /** Consumer mailbox providers: the control group. */
    consumer: z.object({ attempts: count, hardBounces: count, rate, baselineRate: rate, spike: z.boolean() }),
    series: z.array(SeriesPointSchema).optional(),
  }),
  incidents: z.array(IncidentSchema),
  organisations: z.array(OrganisationRowSchema),
  gateways: z.array(GatewayRowSchema),
  reputation: z.array(z.looseObject({ source: z.string() })),
  dataQuality: z.object({
    sources: z.array(z.object({ source: z.string(), events: count, lastEventAt: instant.nullable() })),
    gaps: z.array(z.object({ source: z.string(), from: instant, to: instant })),
    quarantined: count,
    /**
     * The latest run of each reputation source (block lists, Postmaster, SNDS, ESP reputation, authentication
     * posture): a failed or stale source is said here, so its silence is never read as clean.
     */
    reputationSources: z
      .array(
        z.object({
          source: z.string(),
          lastRunAt: instant,
          outcome: z.enum(["ok", "failed"]),
          error: z.string().nullable(),
          lastSuccessAt: instant.nullable(),
          /** Rows of the last run's provider answers left out because they could not be read. */
          badRows: z.number().int().nonnegative().optional(),
        }),
      )
      .optional(),
  }),
});
export type Report = z.infer<typeof ReportSchema>;
