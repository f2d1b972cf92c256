import type { Logger } from "@aws-lambda-powertools/logger";
import { type Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { keys } from "../store/keys.ts";
import { acquireLease } from "../store/lease.ts";
import type { ObjectStore } from "../store/object-store.ts";
import type { LambdaContext } from "./lambda-context.ts";
import type { Job } from "./scheduler-event.ts";

export interface Skipped {
  readonly skipped: string;
}

/**
 * Runs one scheduled job unless another run of it holds the job's lease (a slow run overlapping the next
 * schedule, or a retry). The lease outlives the Lambda's deadline by a minute, so a run that dies is
 * replaced on the next schedule. Metrics are flushed whatever happens.
 */
export async function runExclusively<T>(
  job: Job,
  deps: {
    readonly store: ObjectStore;
    readonly context: LambdaContext;
    readonly logger: Logger;
    readonly metrics: Metrics;
  },
  work: () => Promise<T>,
): Promise<T | Skipped> {
  const { store, context, logger, metrics } = deps;
  const attempt = await acquireLease(
    store,
    keys.jobLease(job),
    context.awsRequestId,
    new Date(),
    context.getRemainingTimeInMillis() + 60_000,
  );
  if (!attempt.acquired) {
    logger.warn(`another ${job} run holds the lease; this run does nothing`, {
      holder: attempt.heldBy?.holder,
      expiresAt: attempt.heldBy?.expiresAt,
    });
    metrics.addMetric("OverlappingRunsSkipped", MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
    return { skipped: "another run holds the lease" };
  }
  try {
    return await work();
  } finally {
    // Conditional on our version: a lease that expired and was taken over is the new holder's.
    if (!(await attempt.lease.release()))
      logger.warn(`the ${job} lease expired during this run and another run took it over`);
    metrics.publishStoredMetrics();
  }
}
