import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { SNSClient } from "@aws-sdk/client-sns";
import { s3ClientFromEnvironment, s3ConsoleUrl } from "../../shared/aws/aws-clients.ts";
import { runExclusively } from "../../shared/aws/exclusive-job.ts";
import type { LambdaContext } from "../../shared/aws/lambda-context.ts";
import { readLambdaEnvironment } from "../../shared/aws/lambda-environment.ts";
import { logSafe } from "../../shared/aws/log-text.ts";
import { parseSchedulerEvent } from "../../shared/aws/scheduler-event.ts";
import { GatewayLookup } from "../../shared/dns/gateway-lookup.ts";
import { NodeMxResolver, parseDnsServer } from "../../shared/dns/mx-resolver.ts";
import { SnsNotifier } from "../../shared/notify/sns-notifier.ts";
import { runAlerts } from "../../shared/pipeline/alerts/run-alerts.ts";
import { runAnalysis } from "../../shared/pipeline/analyze/run-analysis.ts";
import { S3ObjectStore } from "../../shared/store/s3-object-store.ts";

const logger = new Logger({ serviceName: "bounce-radar" });
const metrics = new Metrics({ namespace: "BounceRadar", serviceName: "bounce-radar" });
const env = readLambdaEnvironment();
/** Log lines quote outside text: inert, and masked unless the config turns masking off. */
const clean = logSafe(env.config.masking.recipients);
const s3 = s3ClientFromEnvironment(env.region);
const sns = new SNSClient({ region: env.region, maxAttempts: 1 });

export interface AnalyzeResult {
  readonly skipped?: string;
  readonly report?: string;
  readonly incidents?: number;
  readonly alertsSent?: number;
  readonly alertsFailed?: number;
}

/** One scheduled analysis: aggregates, spike tests, attribution, report, alerts. */
export async function handler(event: unknown, context: LambdaContext): Promise<AnalyzeResult> {
  const schedule = parseSchedulerEvent(event, "analyze");
  logger.appendKeys({ job: schedule.job, executionId: schedule.executionId });
  const topicArn = env.alertTopicArn;
  if (!topicArn) throw new Error("ALERT_TOPIC_ARN is not set: the analyze function publishes alerts");
  const store = new S3ObjectStore({ bucket: env.bucket, client: s3 });
  return runExclusively("analyze", { store, context, logger, metrics }, async () => {
    const { analysis, masking, alerts: policy } = env.config;
    const gateways = new GatewayLookup(
      new NodeMxResolver({
        ...(analysis.dnsServers.length > 0 ? { servers: analysis.dnsServers.map(parseDnsServer) } : {}),
        timeoutMs: analysis.dnsTimeoutMs,
      }),
      store,
      { now: () => new Date(), onWarning: (m) => logger.warn(clean(m)) },
    );
    await gateways.load();
    // The scheduled time, not the clock: a retried run analyses the same window.
    const run = await runAnalysis(
      {
        at: new Date(schedule.scheduledTime),
        windowHours: analysis.windowHours,
        baselineDays: analysis.baselineDays,
        maskRecipients: masking.recipients,
        thresholds: analysis.thresholds,
      },
      { store, gateways, now: () => new Date(), log: (m) => logger.info(clean(m)) },
    );
    const reportKey = (run.keys[0] ?? "").replace(/\.json$/, ".html");
    const alerts = await runAlerts(run.report, {
      store,
      notifier: new SnsNotifier({ topicArn, client: sns }),
      policy,
      now: () => new Date(),
      log: (m) => logger.info(clean(m)),
      reportUri: `s3://${env.bucket}/${reportKey}`,
      consoleUrl: s3ConsoleUrl(env.region, env.bucket, reportKey),
    });
    for (const incident of run.report.incidents) {
      const m = metrics.singleMetric();
      m.addDimension("verdict", incident.verdict);
      m.addMetric("Incidents", MetricUnit.Count, 1);
    }
    metrics.addMetric("AlertsSent", MetricUnit.Count, alerts.sent.length);
    metrics.addMetric("AlertFailures", MetricUnit.Count, alerts.failed.length);
    metrics.addMetric("AnalysisSucceeded", MetricUnit.Count, 1);
    for (const f of alerts.failed) logger.error("alert not delivered; the next run tries again", clean(f));
    logger.info("analysis finished", { report: run.keys[0], incidents: run.report.incidents.length });
    return {
      report: run.keys[0] ?? "",
      incidents: run.report.incidents.length,
      alertsSent: alerts.sent.length,
      alertsFailed: alerts.failed.length,
    };
  });
}
