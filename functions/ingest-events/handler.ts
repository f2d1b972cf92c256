import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { SQSClient } from "@aws-sdk/client-sqs";
import { s3ClientFromEnvironment } from "../../shared/aws/aws-clients.ts";
import { runExclusively } from "../../shared/aws/exclusive-job.ts";
import type { LambdaContext } from "../../shared/aws/lambda-context.ts";
import { readLambdaEnvironment } from "../../shared/aws/lambda-environment.ts";
import { logSafe } from "../../shared/aws/log-text.ts";
import { parseSchedulerEvent } from "../../shared/aws/scheduler-event.ts";
import { parseSqsQueueUrl } from "../../shared/config.ts";
import { runIngest } from "../../shared/pipeline/ingest/run-ingest.ts";
import { SecretsManagerResolver } from "../../shared/secrets/secrets-manager-resolver.ts";
import { SqsQueue } from "../../shared/sources/esp/ses/sqs-queue.ts";
import { S3ObjectStore } from "../../shared/store/s3-object-store.ts";

const logger = new Logger({ serviceName: "bounce-radar" });
const metrics = new Metrics({ namespace: "BounceRadar", serviceName: "bounce-radar" });
// Built once per container: the SDK clients and the secrets cache survive between scheduled runs.
const env = readLambdaEnvironment();
/** Log lines quote outside text: inert, and masked unless the config turns masking off. */
const clean = logSafe(env.config.masking.recipients);
const s3 = s3ClientFromEnvironment(env.region);
const secrets = new SecretsManagerResolver();
/** Stop starting new windows this long before the deadline: a window is fetched and written within it. */
const SAFETY_MARGIN_MS = 120_000;

export interface IngestEventsResult {
  readonly skipped?: string;
  readonly sources?: ReadonlyArray<{
    id: string;
    batches: number;
    added: number;
    quarantined: number;
    error?: string;
  }>;
}

/** One scheduled ingest: every configured ESP source into the data bucket. */
export async function handler(event: unknown, context: LambdaContext): Promise<IngestEventsResult> {
  const schedule = parseSchedulerEvent(event, "ingest-events");
  logger.appendKeys({ job: schedule.job, executionId: schedule.executionId });
  const store = new S3ObjectStore({ bucket: env.bucket, client: s3 });
  return runExclusively("ingest-events", { store, context, logger, metrics }, async () => {
    const results = await runIngest(env.config.sources, {
      store,
      secrets,
      now: () => new Date(),
      log: (message) => logger.info(clean(message)),
      shouldStop: () => context.getRemainingTimeInMillis() < SAFETY_MARGIN_MS,
      sqsQueue: (s) =>
        new SqsQueue({
          queueUrl: s.queueUrl,
          // The queue's own region; the SDK must not re-route by the URL's host, so AWS_ENDPOINT_URL_SQS holds.
          client: new SQSClient({
            region: parseSqsQueueUrl(s.queueUrl)?.region ?? s.region,
            useQueueUrlAsEndpoint: false,
          }),
          waitTimeSeconds: s.waitTimeSeconds,
          visibilityTimeout: 900,
        }),
    });
    const sources = results.map((r) => ({
      id: r.sourceId,
      batches: r.batches.length,
      added: r.batches.reduce((a, b) => a + b.added, 0),
      quarantined: r.batches.reduce((a, b) => a + b.quarantined, 0),
      ...(r.error ? { error: r.error } : {}),
    }));
    const failed = sources.filter((s) => s.error);
    for (const s of failed)
      logger.error("source failed; its cursor stays at the last written batch", clean(s));
    metrics.addMetric("EventsIngested", MetricUnit.Count, sum(sources.map((s) => s.added)));
    metrics.addMetric("EventsQuarantined", MetricUnit.Count, sum(sources.map((s) => s.quarantined)));
    metrics.addMetric("SourceFailures", MetricUnit.Count, failed.length);
    // The staleness alarm watches this one: no successful ingest for N intervals pages the operator.
    metrics.addMetric("IngestSucceeded", MetricUnit.Count, failed.length === 0 ? 1 : 0);
    logger.info("ingest finished", { sources });
    return { sources };
  });
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
