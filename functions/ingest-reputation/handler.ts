import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { s3ClientFromEnvironment } from "../../shared/aws/aws-clients.ts";
import { runExclusively } from "../../shared/aws/exclusive-job.ts";
import type { LambdaContext } from "../../shared/aws/lambda-context.ts";
import { readLambdaEnvironment } from "../../shared/aws/lambda-environment.ts";
import { logSafe } from "../../shared/aws/log-text.ts";
import { parseSchedulerEvent } from "../../shared/aws/scheduler-event.ts";
import { runConfiguredReputation } from "../../shared/pipeline/reputation/run-reputation.ts";
import { SecretsManagerResolver } from "../../shared/secrets/secrets-manager-resolver.ts";
import { S3ObjectStore } from "../../shared/store/s3-object-store.ts";

const logger = new Logger({ serviceName: "bounce-radar" });
const metrics = new Metrics({ namespace: "BounceRadar", serviceName: "bounce-radar" });
const env = readLambdaEnvironment();
/** Log lines quote outside text: inert, and masked unless the config turns masking off. */
const clean = logSafe(env.config.masking.recipients);
const s3 = s3ClientFromEnvironment(env.region);
const secrets = new SecretsManagerResolver();

export interface IngestReputationResult {
  readonly skipped?: string;
  readonly key?: string;
  readonly checks?: number;
  readonly listed?: number;
  readonly unknown?: number;
  /** Every source's outcome, block lists included. */
  readonly sources?: ReadonlyArray<{
    readonly source: string;
    readonly outcome: "ok" | "failed";
    readonly error: string | null;
  }>;
}

/** One scheduled reputation run: block lists for the sending IPs and domains, into reputation/. */
export async function handler(event: unknown, context: LambdaContext): Promise<IngestReputationResult> {
  const schedule = parseSchedulerEvent(event, "ingest-reputation");
  logger.appendKeys({ job: schedule.job, executionId: schedule.executionId });
  const reputation = env.config.reputation;
  if (!reputation) return { skipped: "the configuration has no reputation section" };
  const store = new S3ObjectStore({ bucket: env.bucket, client: s3 });
  return runExclusively("ingest-reputation", { store, context, logger, metrics }, async () => {
    const run = await runConfiguredReputation(reputation, {
      store,
      secrets,
      now: () => new Date(),
      log: (m) => logger.info(clean(m)),
    });
    const b = run.blocklists;
    if (b) {
      metrics.addMetric("BlocklistListings", MetricUnit.Count, b.listed);
      metrics.addMetric("BlocklistUnknown", MetricUnit.Count, b.unknown);
    }
    const sources = [
      ...(b ? [{ source: "dnsbl", outcome: "ok" as const, error: null }] : []),
      ...(run.blocklistError !== null
        ? [{ source: "dnsbl", outcome: "failed" as const, error: run.blocklistError }]
        : []),
      ...run.sources.map((s) => ({ source: s.source, outcome: s.outcome, error: s.error })),
    ];
    const failed = sources.filter((s) => s.outcome === "failed");
    for (const s of failed)
      logger.warn("reputation source failed", clean({ source: s.source, error: s.error }));
    metrics.addMetric("ReputationSourceFailures", MetricUnit.Count, failed.length);
    metrics.addMetric(
      "ReputationBadSignals",
      MetricUnit.Count,
      run.sources.reduce((a, s) => a + s.bad, 0),
    );
    // Succeeded: at least one source answered (staleness is watched per source in the report).
    if (failed.length < sources.length) metrics.addMetric("ReputationSucceeded", MetricUnit.Count, 1);
    return {
      ...(b ? { key: b.key, checks: b.observations.length, listed: b.listed, unknown: b.unknown } : {}),
      sources,
    };
  });
}
