import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { s3ClientFromEnvironment } from "../../shared/aws/aws-clients.ts";
import type { LambdaContext } from "../../shared/aws/lambda-context.ts";
import { readLambdaEnvironment } from "../../shared/aws/lambda-environment.ts";
import { parseSchedulerEvent } from "../../shared/aws/scheduler-event.ts";
import { NodeBlocklistResolver } from "../../shared/dns/blocklist-resolver.ts";
import { runReputation } from "../../shared/pipeline/reputation/run-reputation.ts";
import { SecretsManagerResolver } from "../../shared/secrets/secrets-manager-resolver.ts";
import { blocklistZonesFor } from "../../shared/sources/reputation/blocklist-zones.ts";
import { keys } from "../../shared/store/keys.ts";
import { acquireLease } from "../../shared/store/lease.ts";
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
  const lease = await acquireLease(
    store,
    keys.jobLease("ingest-reputation"),
    context.awsRequestId,
    new Date(),
    context.getRemainingTimeInMillis() + 60_000,
  );
  if (!lease) {
    logger.warn("another reputation run holds the lease; this run does nothing");
    metrics.addMetric("OverlappingRunsSkipped", MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
    return { skipped: "another run holds the lease" };
  }
  try {
    const dqs = reputation.spamhausDqsKeySecret
      ? (await secrets.resolve(reputation.spamhausDqsKeySecret)).value
      : undefined;
    const run = await runReputation(
      {
        zones: blocklistZonesFor(reputation, dqs),
        sendingIps: reputation.sendingIps,
        sendingDomains: reputation.sendingDomains,
        lookbackDays: reputation.lookbackDays,
      },
      {
        store,
        resolver: new NodeBlocklistResolver({
          servers: reputation.dnsServers,
          timeoutMs: reputation.dnsTimeoutMs,
        }),
        now: () => new Date(),
        log: (m) => logger.info(m),
      },
    );
    metrics.addMetric("BlocklistListings", MetricUnit.Count, run.listed);
    metrics.addMetric("BlocklistUnknown", MetricUnit.Count, run.unknown);
    metrics.addMetric("ReputationSucceeded", MetricUnit.Count, 1);
    return { key: run.key, checks: run.observations.length, listed: run.listed, unknown: run.unknown };
  } finally {
    await lease.release();
    metrics.publishStoredMetrics();
  }
}
