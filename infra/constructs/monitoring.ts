import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import type * as sns from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import { ALARM_NAME_PREFIX } from "./alert-topic.ts";
import type { ScheduledFunction } from "./scheduled-function.ts";

export interface MonitoringProps {
  readonly topic: sns.ITopic;
  readonly jobs: ReadonlyArray<{ readonly name: string; readonly job: ScheduledFunction }>;
  /** Minutes between ingest runs (from its schedule). */
  readonly ingestIntervalMinutes: number;
  readonly staleAfterIntervals: number;
}

/** CloudWatch allows at most a day of evaluation for a metric alarm. */
const MAX_EVALUATION_MINUTES = 24 * 60;

/**
 * Monitoring of the monitor: an alarm when a function fails, is throttled or runs close to its timeout, when
 * Scheduler could not invoke it (dead letters), and when no ingest succeeded for N intervals (data stale),
 * all to the alert topic; and a dashboard.
 */
export class Monitoring extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const action = new actions.SnsAction(props.topic);
    const alarm = (aid: string, a: cloudwatch.AlarmProps): cloudwatch.Alarm => {
      const created = new cloudwatch.Alarm(this, aid, a);
      created.addAlarmAction(action);
      created.addOkAction(action);
      this.alarms.push(created);
      return created;
    };
    const period = Duration.minutes(5);
    const widgets: cloudwatch.IWidget[] = [];
    for (const { name, job } of props.jobs) {
      const fn = job.fn;
      // Each fires on one bad datapoint: the monitor itself failing is worth a page.
      const atLeast = (
        aid: string,
        title: string,
        description: string,
        metric: cloudwatch.IMetric,
        threshold = 1,
      ) =>
        alarm(`${name}${aid}`, {
          alarmName: `${ALARM_NAME_PREFIX} ${name}: ${title}`,
          alarmDescription: description,
          metric,
          threshold,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        });
      atLeast(
        "Errors",
        "errors",
        `The ${name} function failed. Read its log group for the error.`,
        fn.metricErrors({ period, statistic: "Sum" }),
      );
      atLeast(
        "Throttles",
        "throttled",
        `The ${name} function was throttled (account concurrency exhausted).`,
        fn.metricThrottles({ period, statistic: "Sum" }),
      );
      atLeast(
        "NearTimeout",
        "close to its timeout",
        `A ${name} run took over 80% of its ${job.timeout.toSeconds()} s timeout.`,
        fn.metricDuration({ period, statistic: "Maximum" }),
        job.timeout.toMilliseconds() * 0.8,
      );
      atLeast(
        "DeadLetters",
        "schedule could not invoke",
        `EventBridge Scheduler put ${name} invocations in the dead-letter queue.`,
        job.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: "Maximum" }),
      );
      widgets.push(
        new cloudwatch.GraphWidget({
          title: `${name}: invocations, errors, throttles`,
          left: [
            fn.metricInvocations({ period }),
            fn.metricErrors({ period }),
            fn.metricThrottles({ period }),
          ],
        }),
        new cloudwatch.GraphWidget({
          title: `${name}: duration (max)`,
          left: [fn.metricDuration({ period, statistic: "Maximum" })],
        }),
      );
    }

    const interval = props.ingestIntervalMinutes;
    const periods = Math.max(
      1,
      Math.min(props.staleAfterIntervals, Math.floor(MAX_EVALUATION_MINUTES / interval)),
    );
    const bounceRadar = (metricName: string, statistic = "Sum", minutes = interval) =>
      new cloudwatch.Metric({
        namespace: "BounceRadar",
        metricName,
        dimensionsMap: { service: "bounce-radar" },
        statistic,
        period: Duration.minutes(minutes),
      });
    alarm("DataStale", {
      alarmName: `${ALARM_NAME_PREFIX}: no successful ingest`,
      alarmDescription: `No ingest run succeeded for ${periods} interval(s) of ${interval} minutes: reports are going stale.`,
      metric: bounceRadar("IngestSucceeded"),
      threshold: 1,
      evaluationPeriods: periods,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      // No data at all means no run reported: stale too.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    widgets.push(
      new cloudwatch.GraphWidget({
        title: "events ingested / quarantined",
        left: [bounceRadar("EventsIngested", "Sum", 60), bounceRadar("EventsQuarantined", "Sum", 60)],
      }),
      new cloudwatch.GraphWidget({
        title: "source failures, alerts",
        left: [
          bounceRadar("SourceFailures", "Sum", 60),
          bounceRadar("AlertsSent", "Sum", 60),
          bounceRadar("AlertFailures", "Sum", 60),
        ],
      }),
      new cloudwatch.AlarmStatusWidget({ title: "alarms", alarms: this.alarms, width: 24 }),
    );
    this.dashboard = new cloudwatch.Dashboard(this, "Dashboard", { dashboardName: "bounce-radar" });
    for (let i = 0; i < widgets.length; i += 2) this.dashboard.addWidgets(...widgets.slice(i, i + 2));
  }
}

/** Minutes between runs of a Scheduler expression: exact for rate(), an hour assumed for cron(). */
export function intervalMinutesOf(expression: string): number {
  const m = /^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$/.exec(expression);
  if (!m) return 60;
  const n = Number(m[1]);
  const unit = m[2] ?? "minutes";
  return unit.startsWith("minute") ? n : unit.startsWith("hour") ? n * 60 : n * 1440;
}
