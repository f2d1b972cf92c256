import { CfnOutput, Duration, Validations } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { NodejsFunction } from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as s3 from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";
import { BUNDLING, retentionOf } from "./scheduled-function.ts";

export interface WebhookReceiverProps {
  readonly entry: string;
  readonly bucket: s3.IBucket;
  /** Where verified batches land (the function may write there only). */
  readonly rawPrefix: string;
  readonly environment: Record<string, string>;
  readonly logRetentionDays: number;
  readonly description: string;
  /** Reserved (and so maximum) concurrency; null leaves it unreserved. */
  readonly reservedConcurrency: number | null;
}

/**
 * An ESP's push endpoint: a small function behind a public function URL (the ESP cannot sign with SigV4, so
 * the function checks the ESP's own signature before storing anything). Its role may only write verified
 * batches under one raw/ prefix and log to its own group. Its concurrency is reserved by default, which also
 * caps it: a flood of requests at the public URL is throttled there instead of starving the scheduled jobs.
 */
export class WebhookReceiver extends Construct {
  readonly fn: NodejsFunction;
  readonly role: iam.Role;
  readonly url: lambda.FunctionUrl;

  constructor(scope: Construct, id: string, props: WebhookReceiverProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, "Logs", { retention: retentionOf(props.logRetentionDays) });
    this.role = new iam.Role(this, "Role", {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: props.description,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [logGroup.logGroupArn],
      }),
    );
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ["s3:PutObject"],
        resources: [props.bucket.arnForObjects(`${props.rawPrefix}*`)],
      }),
    );
    this.fn = new NodejsFunction(this, "Function", {
      entry: props.entry,
      handler: "handler",
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(10),
      ...(props.reservedConcurrency !== null
        ? { reservedConcurrentExecutions: props.reservedConcurrency }
        : {}),
      role: this.role,
      logGroup,
      bundling: BUNDLING,
      environment: {
        ...props.environment,
        NODE_OPTIONS: "--enable-source-maps",
        POWERTOOLS_SERVICE_NAME: "bounce-radar",
        POWERTOOLS_LOG_LEVEL: "INFO",
      },
      description: props.description,
    });
    Validations.of(this.fn).acknowledge({
      id: "AwsSolutions-L1",
      reason:
        "Pinned to Node.js 22 on purpose: the code is built and tested for it; move with a tested upgrade, not implicitly.",
    });
    this.url = this.fn.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
    new CfnOutput(this, "Url", {
      value: this.url.url,
      description: `${props.description}: paste into the ESP's webhook settings`,
    });
  }
}
