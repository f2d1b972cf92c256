import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { s3ClientFromEnvironment } from "../../shared/aws/aws-clients.ts";
import { runExclusively } from "../../shared/aws/exclusive-job.ts";
import type { LambdaContext } from "../../shared/aws/lambda-context.ts";
import { readLambdaEnvironment } from "../../shared/aws/lambda-environment.ts";
import { parseSchedulerEvent } from "../../shared/aws/scheduler-event.ts";
import { runConfiguredReputation } from "../../shared/pipeline/reputation/run-reputation.ts";
import { SecretsManagerResolver } from "../../shared/secrets/secrets-manager-resolver.ts";
import { S3ObjectStore } from "../../shared/store/s3-object-store.ts";

const logger = new Logger({ serviceName: "bounce-radar" });
const metrics = new Metrics({ namespace: "BounceRadar", serviceName: "bounce-radar" });
const env = readLambdaEnvironment();
const s3 = s3ClientFromEnvironment(env.region);
const secrets = new SecretsManagerResolver();

export interface IngestReputationResult {
  readonly skipped?: string;
  readonly key?: string;
  readonly checks?: number;
  readonly listed?: number;
  readonly unknown?: number;
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
      log: (m) => logger.info(m),
    });
    metrics.addMetric("BlocklistListings", MetricUnit.Count, run.listed);
    metrics.addMetric("BlocklistUnknown", MetricUnit.Count, run.unknown);
    metrics.addMetric("ReputationSucceeded", MetricUnit.Count, 1);
    return { key: run.key, checks: run.observations.length, listed: run.listed, unknown: run.unknown };
  });
}
