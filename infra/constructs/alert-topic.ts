import { Duration } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subs from "aws-cdk-lib/aws-sns-subscriptions";
import { Construct } from "constructs";
import type { Config } from "../../shared/config.ts";

/**
 * The alert topic: incidents from the analysis and alarms about the monitor itself. Encrypted with a
 * customer-managed key whose policy lets CloudWatch alarms publish (the AWS-managed SNS key cannot).
 */
export class AlertTopic extends Construct {
  readonly topic: sns.Topic;
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, subscriptions: Config["subscriptions"]) {
    super(scope, id);
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
