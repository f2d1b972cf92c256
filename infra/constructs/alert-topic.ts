import { ArnFormat, Duration, Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subs from "aws-cdk-lib/aws-sns-subscriptions";
import { Construct } from "constructs";
import type { Config } from "../../shared/config.ts";

/** Every alarm of the stack is named so (monitoring.ts): the key lets only those publish. */
export const ALARM_NAME_PREFIX = "bounce-radar";

/**
 * The alert topic: incidents from the analysis and alarms about the monitor itself. Encrypted with a
 * customer-managed key whose policy lets CloudWatch alarms publish (the AWS-managed SNS key cannot).
 */
export class AlertTopic extends Construct {
  readonly topic: sns.Topic;
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, subscriptions: Config["subscriptions"]) {
    super(scope, id);
    const stack = Stack.of(this);
    this.key = new kms.Key(this, "Key", {
      description: "bounce-radar alert topic",
      enableKeyRotation: true,
      pendingWindow: Duration.days(30),
    });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: "CloudWatchAlarmsPublish",
        principals: [new iam.ServicePrincipal("cloudwatch.amazonaws.com")],
        actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
        resources: ["*"],
        // Only for this account's own alarms (confused deputy): CloudWatch sends both keys with the request.
        conditions: {
          StringEquals: { "aws:SourceAccount": stack.account },
          ArnLike: {
            "aws:SourceArn": stack.formatArn({
              service: "cloudwatch",
              resource: "alarm",
              resourceName: `${ALARM_NAME_PREFIX}*`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    this.topic = new sns.Topic(this, "Topic", {
      displayName: "bounce-radar",
      masterKey: this.key,
      enforceSSL: true,
    });
    for (const email of subscriptions.emails) this.topic.addSubscription(new subs.EmailSubscription(email));
    for (const phone of subscriptions.phones) this.topic.addSubscription(new subs.SmsSubscription(phone));
  }
}
