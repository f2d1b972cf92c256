import { Duration, Validations } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { type BundlingOptions, NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import * as scheduler from "aws-cdk-lib/aws-scheduler";
import * as targets from "aws-cdk-lib/aws-scheduler-targets";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { type Job, schedulerInput } from "../../shared/aws/scheduler-event.ts";

/**
 * How every handler is bundled: the local esbuild (no Docker), ESM for Node 22 (compiled for node20, the oldest
 * Node the code supports), minified, with source maps. The AWS SDK v3 clients are bundled on purpose: the
 * versions tested are the versions run, whatever the runtime ships.
 */
export const BUNDLING: BundlingOptions = {
  format: OutputFormat.ESM,
  target: "node20",
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  mainFields: ["module", "main"],
  externalModules: [],
  forceDockerBundling: false,
  // CommonJS dependencies inside an ESM bundle still call require() for Node built-ins.
  banner:
    "import { createRequire as __brCreateRequire } from 'node:module'; const require = __brCreateRequire(import.meta.url);",
};

export interface ScheduledFunctionProps {
  readonly job: Job;
  readonly entry: string;
  readonly schedule: string;
  readonly environment: Record<string, string>;
  readonly memoryMb: number;
  readonly timeout: Duration;
  readonly logRetentionDays: number;
}

/**
 * One job: its function (own role, own log group, Powertools settings) and the EventBridge Scheduler schedule
 * that invokes it, with retries and a dead-letter queue for invocations Scheduler could not deliver.
 */
export class ScheduledFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: iam.Role;
  readonly deadLetterQueue: sqs.Queue;
  readonly schedule: scheduler.Schedule;
  readonly timeout: Duration;

  constructor(scope: Construct, id: string, props: ScheduledFunctionProps) {
    super(scope, id);
    this.timeout = props.timeout;
    const logGroup = new logs.LogGroup(this, "Logs", {
      retention: retentionOf(props.logRetentionDays),
    });
    // An explicit role instead of the AWS-managed basic execution policy: logs to this group only.
    this.role = new iam.Role(this, "Role", {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: `bounce-radar ${props.job}`,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [logGroup.logGroupArn],
      }),
    );
    this.fn = new NodejsFunction(this, "Function", {
      entry: props.entry,
      handler: "handler",
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memoryMb,
      timeout: props.timeout,
      role: this.role,
      logGroup,
      bundling: BUNDLING,
      environment: {
        ...props.environment,
        NODE_OPTIONS: "--enable-source-maps",
        POWERTOOLS_SERVICE_NAME: "bounce-radar",
        POWERTOOLS_METRICS_NAMESPACE: "BounceRadar",
        POWERTOOLS_LOG_LEVEL: "INFO",
      },
      description: `bounce-radar ${props.job}`,
    });
    Validations.of(this.fn).acknowledge({
      id: "AwsSolutions-L1",
      reason:
        "Pinned to Node.js 22 on purpose: the code is built and tested for it; move with a tested upgrade, not implicitly.",
    });

    this.deadLetterQueue = new sqs.Queue(this, "DeadLetters", {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: "AwsSolutions-SQS3",
      reason: "This queue is the dead-letter queue of the schedule's target.",
    });
    this.schedule = new scheduler.Schedule(this, "Schedule", {
      schedule: scheduler.ScheduleExpression.expression(props.schedule),
      description: `bounce-radar ${props.job}`,
      target: new targets.LambdaInvoke(this.fn, {
        input: scheduler.ScheduleTargetInput.fromObject(schedulerInput(props.job)),
        retryAttempts: 2,
        maxEventAge: Duration.hours(1),
        deadLetterQueue: this.deadLetterQueue,
      }),
    });
  }
}

const RETENTIONS: readonly logs.RetentionDays[] = Object.values(logs.RetentionDays).filter(
  (v): v is logs.RetentionDays => typeof v === "number" && v > 0,
);

/** CloudWatch Logs accepts only certain retention periods: the shortest one at least as long as asked. */
export function retentionOf(days: number): logs.RetentionDays {
  const sorted = [...RETENTIONS].sort((a, b) => a - b);
  return sorted.find((r) => r >= days) ?? logs.RetentionDays.TEN_YEARS;
}
