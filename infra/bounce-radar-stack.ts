import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  ArnFormat,
  type CfnElement,
  CfnOutput,
  Duration,
  Stack,
  type StackProps,
  Validations,
} from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type { Construct } from "constructs";
import { type Config, ConfigError, parseSqsQueueUrl } from "../shared/config.ts";
import { keys } from "../shared/store/keys.ts";
import { AlertTopic } from "./constructs/alert-topic.ts";
import { DataBucket } from "./constructs/data-bucket.ts";
import { intervalMinutesOf, Monitoring } from "./constructs/monitoring.ts";
import { QueryCatalog } from "./constructs/query-catalog.ts";
import { ScheduledFunction } from "./constructs/scheduled-function.ts";
import { outputIdOf, SourceSecrets, secretNamesOf } from "./constructs/source-secrets.ts";
import { WebhookReceiver } from "./constructs/webhook-receiver.ts";

const ROOT = join(fileURLToPath(new URL(".", import.meta.url)), "..");
/** Lambda allows 4 KB of environment in all; the configuration must leave room for the rest. */
const MAX_CONFIG_ENV_CHARS = 3500;

export interface BounceRadarStackProps extends StackProps {
  readonly config: Config;
}

/** The deployable monitor: data bucket, scheduled jobs, alert topic, secrets, monitoring, Athena. */
export class BounceRadarStack extends Stack {
  readonly data: DataBucket;
  readonly alerts: AlertTopic;
  readonly ingestEvents: ScheduledFunction;
  readonly analyze: ScheduledFunction;
  /** Only when the configuration has a reputation section. */
  readonly ingestReputation: ScheduledFunction | undefined;
  /** Only for a SendGrid source with a webhook verification key. */
  readonly sendgridWebhook: WebhookReceiver | undefined;

  constructor(scope: Construct, id: string, props: BounceRadarStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.data = new DataBucket(this, "DataBucket", config.retention);
    this.alerts = new AlertTopic(this, "Alerts", config.subscriptions);
    const secrets = new SourceSecrets(this, "SourceSecrets", config);
    const bucket = this.data.bucket;

    // Only what the functions read: subscribers' addresses and phone numbers stay out of their environment.
    const { subscriptions: _subscriptions, ...runtimeConfig } = config;
    const configJson = JSON.stringify(runtimeConfig);
    if (configJson.length > MAX_CONFIG_ENV_CHARS) {
      throw new Error(
        `the configuration is ${configJson.length} characters as JSON; functions receive it in their environment, which holds at most ${MAX_CONFIG_ENV_CHARS}: list fewer sources or domains per deployment`,
      );
    }
    const common = {
      memoryMb: config.deployment.lambdaMemoryMb,
      timeout: Duration.seconds(config.deployment.lambdaTimeoutSeconds),
      logRetentionDays: config.deployment.logRetentionDays,
    };
    this.ingestEvents = new ScheduledFunction(this, "IngestEvents", {
      ...common,
      job: "ingest-events",
      entry: join(ROOT, "functions/ingest-events/handler.ts"),
      schedule: config.schedules.ingestEvents,
      environment: { DATA_BUCKET: bucket.bucketName, BOUNCE_RADAR_CONFIG: configJson },
    });
    this.analyze = new ScheduledFunction(this, "Analyze", {
      ...common,
      job: "analyze",
      entry: join(ROOT, "functions/analyze/handler.ts"),
      schedule: config.schedules.analyze,
      environment: {
        DATA_BUCKET: bucket.bucketName,
        BOUNCE_RADAR_CONFIG: configJson,
        ALERT_TOPIC_ARN: this.alerts.topic.topicArn,
      },
    });

    this.ingestReputation = config.reputation
      ? new ScheduledFunction(this, "IngestReputation", {
          ...common,
          job: "ingest-reputation",
          entry: join(ROOT, "functions/ingest-reputation/handler.ts"),
          schedule: config.schedules.ingestReputation,
          environment: { DATA_BUCKET: bucket.bucketName, BOUNCE_RADAR_CONFIG: configJson },
        })
      : undefined;

    const webhookSource = config.sources.find(
      (s): s is Extract<typeof s, { provider: "sendgrid" }> =>
        s.provider === "sendgrid" && !!s.webhookPublicKey,
    );
    this.sendgridWebhook = webhookSource?.webhookPublicKey
      ? new WebhookReceiver(this, "SendgridWebhook", {
          entry: join(ROOT, "functions/sendgrid-webhook/handler.ts"),
          bucket,
          rawPrefix: "raw/sendgrid/",
          environment: {
            DATA_BUCKET: bucket.bucketName,
            SENDGRID_WEBHOOK_PUBLIC_KEY: webhookSource.webhookPublicKey,
            SENDGRID_WEBHOOK_MAX_AGE_SECONDS: String(webhookSource.webhookMaxAgeSeconds),
          },
          logRetentionDays: config.deployment.logRetentionDays,
          reservedConcurrency: config.deployment.webhookReservedConcurrency,
          description: "bounce-radar SendGrid Event Webhook receiver",
        })
      : undefined;
    if (this.sendgridWebhook) {
      const bucketArn = `<${this.getLogicalId(bucket.node.defaultChild as CfnElement)}.Arn>`;
      Validations.of(this.sendgridWebhook.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${bucketArn}/raw/sendgrid/*]`,
        reason:
          "Verified webhook batches only, under raw/sendgrid/: keys carry the date and the batch's hash, so they cannot be listed in advance.",
      });
    }

    // Least privilege, by key prefix. ListBucket (key names only) lets a missing key answer 404, not 403.
    const objects = (...prefixes: string[]) => prefixes.map((p) => bucket.arnForObjects(p));
    const grant = (role: iam.IRole, actions: string[], resources: string[]) =>
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources }));
    const jobs = [this.ingestEvents, this.analyze, ...(this.ingestReputation ? [this.ingestReputation] : [])];
    for (const job of jobs) grant(job.role, ["s3:ListBucket"], [bucket.bucketArn]);
    const names = secretNamesOf(config);
    const ingestRole = this.ingestEvents.role;
    // Each role exactly what its code does (test/infra/iam-evaluation.test.ts runs every function's bundle and
    // evaluates each S3 call against these statements). Deletes: a batch with no bad records clears its
    // quarantine object, a partition left with only duplicates clears its events object. Leases are broken
    // with a put conditional on the ETag read and released with a conditional delete (If-Match), which S3
    // allows with GetObject and DeleteObject on the key.
    grant(
      ingestRole,
      ["s3:GetObject", "s3:PutObject"],
      objects("raw/*", "events/*", "quarantine/*", "state/cursors/*", keys.jobLease("ingest-events")),
    );
    grant(
      ingestRole,
      ["s3:DeleteObject"],
      objects("events/*", "quarantine/*", keys.jobLease("ingest-events")),
    );
    for (const name of names.ingestEvents) secrets.secrets.get(name)?.grantRead(ingestRole);
    if (this.ingestReputation) {
      const role = this.ingestReputation.role;
      grant(role, ["s3:GetObject"], objects("events/*"));
      grant(
        role,
        ["s3:GetObject", "s3:PutObject"],
        objects("reputation/*", keys.jobLease("ingest-reputation")),
      );
      grant(role, ["s3:DeleteObject"], objects(keys.jobLease("ingest-reputation")));
      for (const name of names.ingestReputation) secrets.secrets.get(name)?.grantRead(role);
      const sesRegions = config.reputation?.ses?.regions ?? [];
      if (sesRegions.length > 0) {
        // GetAccount and GetMetricData have no resource-level permissions: IAM accepts only "*" for them. The
        // requested region narrows GetAccount to the configured ones.
        role.addToPrincipalPolicy(
          new iam.PolicyStatement({
            actions: ["ses:GetAccount"],
            resources: ["*"],
            conditions: { StringEquals: { "aws:RequestedRegion": sesRegions } },
          }),
        );
        grant(role, ["cloudwatch:GetMetricData"], ["*"]);
      }
    }
    const queues = config.sources.flatMap((s) =>
      s.provider === "ses" ? [queueArnOf(this, s.queueUrl)] : [],
    );
    if (queues.length > 0) {
      grant(
        ingestRole,
        ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"],
        queues,
      );
    }
    const analyzeRole = this.analyze.role;
    // reputation/: the block-list and other reputation values the attribution weighs. Under state/ only its
    // own keys: never the ingest cursors or another job's lease.
    grant(analyzeRole, ["s3:GetObject"], objects("events/*", "reputation/*"));
    grant(
      analyzeRole,
      ["s3:GetObject", "s3:PutObject"],
      objects(
        "aggregates/*",
        "reports/*",
        keys.alerts(),
        keys.alertsDamaged(),
        keys.alertsLease(),
        keys.jobLease("analyze"),
        "state/mx/*",
      ),
    );
    grant(analyzeRole, ["s3:DeleteObject"], objects(keys.alertsLease(), keys.jobLease("analyze")));
    this.alerts.topic.grantPublish(analyzeRole);
    this.alerts.key.grant(analyzeRole, "kms:GenerateDataKey*", "kms:Decrypt");

    // cdk-nag: each wildcard acknowledged by name, with why it is as narrow as it can be.
    const bucketArn = `<${this.getLogicalId(bucket.node.defaultChild as CfnElement)}.Arn>`;
    const prefixReason =
      "Objects under one key prefix of the data bucket: keys carry dates, batch ids and organisations, so they cannot be listed in advance. The prefix is the narrowest scope.";
    for (const [job, prefixes] of [
      [this.ingestEvents, ["raw", "events", "quarantine", "state/cursors"]],
      [this.analyze, ["events", "reputation", "aggregates", "aggregates/daily", "reports", "state/mx"]],
      ...(this.ingestReputation ? [[this.ingestReputation, ["events", "reputation"]] as const] : []),
    ] as const) {
      for (const prefix of prefixes)
        Validations.of(job.role).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${bucketArn}/${prefix}/*]`,
          reason: prefixReason,
        });
    }
    if (this.ingestReputation && (config.reputation?.ses?.regions ?? []).length > 0)
      Validations.of(this.ingestReputation.role).acknowledge({
        id: "AwsSolutions-IAM5[Resource::*]",
        reason:
          "ses:GetAccount and cloudwatch:GetMetricData (SES reputation) support no resource-level permissions; both are read-only, and GetAccount is limited to the configured regions by aws:RequestedRegion.",
      });
    Validations.of(analyzeRole).acknowledge({
      id: "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
      reason:
        "Publishing to the encrypted alert topic needs GenerateDataKey for each data key variant, on that one key only.",
    });
    for (const job of jobs) {
      const fnArn = `<${this.getLogicalId(job.fn.node.defaultChild as CfnElement)}.Arn>`;
      Validations.of(this).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${fnArn}:*]`,
        reason:
          "EventBridge Scheduler's role (made by the CDK target) may invoke this one function and its versions (<function ARN>:*).",
      });
    }

    new Monitoring(this, "Monitoring", {
      topic: this.alerts.topic,
      jobs: [
        { name: "ingest-events", job: this.ingestEvents },
        { name: "analyze", job: this.analyze },
        ...(this.ingestReputation ? [{ name: "ingest-reputation", job: this.ingestReputation }] : []),
      ],
      ingestIntervalMinutes: intervalMinutesOf(config.schedules.ingestEvents),
      staleAfterIntervals: config.deployment.staleAfterIntervals,
    });
    const catalog = new QueryCatalog(this, "QueryCatalog", {
      bucket,
      bytesScannedCutoffMb: config.deployment.athenaBytesScannedCutoffMb,
    });

    new CfnOutput(this, "DataBucketName", { value: bucket.bucketName });
    new CfnOutput(this, "AlertTopicArn", { value: this.alerts.topic.topicArn });
    new CfnOutput(this, "AthenaWorkGroup", { value: catalog.workGroup.name });
    for (const [name, secret] of secrets.secrets)
      new CfnOutput(this, outputIdOf(name), {
        value: secret.secretArn,
        description: `fill with the API key: ${name}`,
      });
  }
}

/**
 * The ARN of a queue given by its URL, in the stack's partition (a queue and the role using it are always in one
 * partition; guessing it from the host would put a China-region queue in `aws`).
 */
export function queueArnOf(stack: Stack, queueUrl: string): string {
  const queue = parseSqsQueueUrl(queueUrl);
  if (!queue)
    throw new ConfigError(
      `sources: queueUrl ${queueUrl} is not an SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)`,
    );
  return stack.formatArn({
    service: "sqs",
    region: queue.region,
    account: queue.account,
    resource: queue.name,
    arnFormat: ArnFormat.NO_RESOURCE_NAME,
  });
}
